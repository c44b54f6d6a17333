import fc from 'fast-check';
import { AuditEvent } from '@yoke/protocol';
import {
  ACTOR_KINDS,
  AUDIT_CATALOGUE,
  OUTCOMES,
  auditEventArb,
  sampleEvent,
} from '../../../../test/fixtures/ocsf/audit-events';
import { CSV_COLUMNS, CSV_EOL, CSV_HEADER, toCsvRow } from './csv';

/** A strict RFC 4180 reader: CRLF between records, quoted fields with doubled quotes; anything else throws. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`quote in an unquoted field at ${i}`);
        field += text[i++];
      }
    }
    record.push(field);
    if (i >= text.length) {
      records.push(record);
      return records;
    }
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
    } else throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
}

/** What a cell holds once read: the value, a `'` in front when it would start a formula. */
const neutralised = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

function expectedCells(e: AuditEvent): string[] {
  return [
    String(e.seq),
    e.at,
    e.id,
    e.orgId,
    e.action,
    e.outcome,
    e.actor.kind,
    e.actor.id,
    e.actor.name ?? '',
    e.actor.onBehalfOf ?? '',
    e.target.kind,
    e.target.id,
    e.target.name ?? '',
    e.sessionId ?? '',
    e.turnId ?? '',
    e.requestId ?? '',
    e.ip ?? '',
    e.userAgent ?? '',
    e.contentHash ?? '',
  ].map(neutralised);
}

function readRow(row: string): string[] {
  const records = parseCsv(row);
  expect(records).toHaveLength(1);
  return records[0];
}

describe('CSV view of audit events', () => {
  it('has one header cell per column, no cell needing quotes', () => {
    expect(CSV_HEADER).toBe(
      'seq,at,id,org_id,action,outcome,actor_kind,actor_id,actor_name,actor_on_behalf_of,target_kind,target_id,' +
        'target_name,session_id,turn_id,request_id,ip,user_agent,content_hash,details',
    );
    expect(readRow(CSV_HEADER)).toEqual([...CSV_COLUMNS]);
  });

  it('renders an event as one record, byte for byte', () => {
    const e = sampleEvent({
      actor: { kind: 'agent', id: 'a1', onBehalfOf: 'u1' },
      sessionId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      turnId: 't-3',
      contentHash: 'ab'.repeat(32),
      details: { z: 1, a: 'x,y', m: null, b: true },
    });
    expect(toCsvRow(e)).toBe(
      '42,2025-03-04T05:06:07.089Z,0b7c6f0e-5a43-4c8e-9d0f-6f1e2d3c4b5a,2f1e0d9c-8b7a-4654-a321-0fedcba98765,' +
        'session.created,success,agent,a1,,u1,session,c4d5e6f7-2222-4333-9444-a55566667777,demo,' +
        '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d,t-3,req-7f3a,203.0.113.7,Mozilla/5.0 (X11; Linux x86_64),' +
        `${'ab'.repeat(32)},"{""a"":""x,y"",""b"":true,""m"":null,""z"":1}"`,
    );
  });

  it('writes null and absent fields as empty cells', () => {
    const e = sampleEvent({ requestId: null, ip: null, userAgent: null, actor: { kind: 'system', id: 'yoke' } });
    const cells = readRow(toCsvRow(e));
    expect(cells[CSV_COLUMNS.indexOf('actor_name')]).toBe('');
    expect(cells[CSV_COLUMNS.indexOf('actor_on_behalf_of')]).toBe('');
    expect(cells[CSV_COLUMNS.indexOf('request_id')]).toBe('');
    expect(cells[CSV_COLUMNS.indexOf('ip')]).toBe('');
    expect(cells[CSV_COLUMNS.indexOf('user_agent')]).toBe('');
    expect(cells[CSV_COLUMNS.indexOf('details')]).toBe('{}');
  });

  it.each([
    ['a comma', 'Lovelace, Ada', '"Lovelace, Ada"'],
    ['a quote', 'say "hi"', '"say ""hi"""'],
    ['a line feed', 'two\nlines', '"two\nlines"'],
    ['a CRLF', 'two\r\nlines', '"two\r\nlines"'],
  ])('quotes a cell with %s', (_what, name, cell) => {
    const row = toCsvRow(sampleEvent({ actor: { kind: 'user', id: 'u1', name } }));
    expect(row).toContain(`,u1,${cell},`);
    expect(readRow(row)[CSV_COLUMNS.indexOf('actor_name')]).toBe(name);
  });

  it.each(['=1+1', '+cmd|x', '-2', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://evil","click")'])(
    'neutralises the formula cell %j with a leading quote',
    (name) => {
      const cells = readRow(toCsvRow(sampleEvent({ actor: { kind: 'user', id: 'u1', name }, userAgent: name })));
      expect(cells[CSV_COLUMNS.indexOf('actor_name')]).toBe(`'${name}`);
      expect(cells[CSV_COLUMNS.indexOf('user_agent')]).toBe(`'${name}`);
    },
  );

  it('leaves other cells as they are', () => {
    const cells = readRow(toCsvRow(sampleEvent({ actor: { kind: 'user', id: 'u1', name: "'quoted" } })));
    expect(cells[CSV_COLUMNS.indexOf('actor_name')]).toBe("'quoted");
  });

  it('writes details as canonical JSON, whatever their key order', () => {
    const a = toCsvRow(sampleEvent({ details: { b: 2, a: 1, é: 'x', Z: 1.5e21 } }));
    const b = toCsvRow(sampleEvent({ details: { Z: 1.5e21, é: 'x', a: 1, b: 2 } }));
    expect(a).toBe(b);
    expect(readRow(a)[CSV_COLUMNS.indexOf('details')]).toBe('{"Z":1.5e+21,"a":1,"b":2,"é":"x"}');
  });

  it('renders every catalogue action, an unknown one, each actor kind and each outcome', () => {
    const rows: string[] = [];
    for (const action of [...AUDIT_CATALOGUE, 'widget.frobnicated'])
      for (const kind of ACTOR_KINDS)
        for (const outcome of OUTCOMES) {
          const e = AuditEvent.parse(sampleEvent({ action, outcome, actor: { kind, id: `${kind}-1` } }));
          rows.push(toCsvRow(e));
        }
    const records = parseCsv(rows.join(CSV_EOL));
    expect(records).toHaveLength((AUDIT_CATALOGUE.length + 1) * ACTOR_KINDS.length * OUTCOMES.length);
    for (const r of records) expect(r).toHaveLength(CSV_COLUMNS.length);
  });

  it('gives every valid event one record that reads back to its fields, formulas neutralised', () => {
    fc.assert(
      fc.property(auditEventArb, (e) => {
        expect(AuditEvent.safeParse(e).success).toBe(true);
        const row = toCsvRow(e);
        expect(toCsvRow(structuredClone(e))).toBe(row);
        const cells = readRow(row);
        expect(cells).toHaveLength(CSV_COLUMNS.length);
        expect(cells.slice(0, -1)).toEqual(expectedCells(e));
        expect(JSON.parse(cells[cells.length - 1])).toEqual(JSON.parse(JSON.stringify(e.details)));
        for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      }),
      { numRuns: 300 },
    );
  });

  it('joins records with CRLF into a file that reads back record by record', () => {
    fc.assert(
      fc.property(fc.array(auditEventArb, { minLength: 1, maxLength: 8 }), (events) => {
        const text = [CSV_HEADER, ...events.map(toCsvRow)].join(CSV_EOL);
        const records = parseCsv(text);
        expect(records).toHaveLength(events.length + 1);
        for (const r of records) expect(r).toHaveLength(CSV_COLUMNS.length);
      }),
      { numRuns: 50 },
    );
  });
});
