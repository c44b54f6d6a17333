import { countLines, describeDays, draftOf, parseDays } from '@/lib/retention';

describe('retention form', () => {
  it('reads a duration or "keep forever", and refuses anything else with a message', () => {
    expect(parseDays({ forever: true, days: 'whatever' })).toEqual({ ok: true, days: null });
    expect(parseDays({ forever: false, days: ' 30 ' })).toEqual({ ok: true, days: 30 });
    expect(parseDays({ forever: false, days: '36500' })).toEqual({ ok: true, days: 36_500 });
    for (const bad of ['0', '36501', '1.5', '-3', '', 'ten']) {
      expect(parseDays({ forever: false, days: bad }).ok).toBe(false);
    }
  });

  it('round-trips stored durations through the draft', () => {
    expect(parseDays(draftOf(null))).toEqual({ ok: true, days: null });
    expect(parseDays(draftOf(400))).toEqual({ ok: true, days: 400 });
  });

  it('describes durations', () => {
    expect(describeDays(null)).toBe('Kept forever');
    expect(describeDays(1)).toBe('Kept 1 day');
    expect(describeDays(90)).toBe('Kept 90 days (about 3 months)');
    expect(describeDays(3650)).toBe('Kept 3650 days (about 10 years)');
  });

  it('lists what would go, largest first, skipping zeros', () => {
    expect(
      countLines({
        itemsByType: { tool_result: 3, user_message: 5, reasoning: 0 },
        sessionItems: 8,
        sessions: 2,
        inboxEntries: 1,
        auditContents: 4,
      }),
    ).toEqual(['5 prompts', '3 tool outputs', '1 queued message', '4 audit contents (redacted)']);
  });
});
