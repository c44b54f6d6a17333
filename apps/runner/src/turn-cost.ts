import { formatMicrosUsd, type ItemBody, MICROS_PER_USD, priceCall, usageMismatch } from '@yoke/protocol';

/**
 * One turn's cost as the harness reported it and as the egress proxy metered it, both at list prices (what
 * harnesses know; an org's own `price_table` changes what is charged, not what a truthful harness reports).
 */
export class TurnCost {
  private reportedMicros = 0;
  private meteredMicros = 0;
  private calls = 0;

  /** A harness usage report; a negative or non-numeric cost makes the turn's report invalid. */
  reported(costUsd: number): void {
    const micros = Number.isFinite(costUsd) ? Math.round(costUsd * MICROS_PER_USD) : -1;
    this.reportedMicros += micros < 0 ? -Number.MAX_SAFE_INTEGER : micros;
  }

  metered(item: Extract<ItemBody, { type: 'metered_usage' }>): void {
    this.meteredMicros += priceCall(item.model, item).costMicros;
    this.calls += 1;
  }

  /** At the end of the turn: the notice text when the two figures differ beyond rounding, else null; then resets. */
  settle(): string | null {
    const { reportedMicros: reported, meteredMicros: metered, calls } = this;
    this.reportedMicros = this.meteredMicros = this.calls = 0;
    if (calls === 0 || !usageMismatch(reported, metered)) return null;
    const said = reported < 0 ? 'an invalid (negative or non-numeric) cost' : formatMicrosUsd(reported);
    return (
      `usage: the harness reported ${said} for this turn; the egress proxy metered ${formatMicrosUsd(metered)} from ` +
      `the provider's own responses (${calls} model call${calls === 1 ? '' : 's'}). Cost policies count the metered figure.`
    );
  }
}
