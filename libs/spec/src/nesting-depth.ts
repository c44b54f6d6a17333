import { CST, Lexer } from 'yaml';

/**
 * An upper bound of the document's nesting depth, from the lexer alone (a loop, so no input overflows the stack), given
 * up once past `limit`. Flow collections count by their brackets. Block collections are tracked by the column they
 * start at: a node at a column closes every block collection further right, and a column holds at most one open map
 * and one open sequence (a sequence may be the value of a key in the same column).
 */
export function nestingDepth(text: string, limit: number): number {
  const open: { col: number; kind: 'map' | 'seq' }[] = [];
  let flow = 0;
  let max = 0;
  let col = 0;
  let nodeCol = 0;
  let startsNode = true;
  let isScalarNext = false;
  const enter = (at: number, kind: 'map' | 'seq') => {
    while (open.length > 0 && open[open.length - 1].col > at) open.pop();
    const top = open[open.length - 1];
    if (top?.col === at && (top.kind === kind || open[open.length - 2]?.col === at)) return;
    open.push({ col: at, kind });
  };
  for (const token of new Lexer().lex(text)) {
    if (token === CST.SCALAR) {
      isScalarNext = true;
      continue;
    }
    if (token === CST.DOCUMENT) continue;
    const type = isScalarNext ? 'scalar' : CST.tokenType(token);
    isScalarNext = false;
    if (type === 'flow-error-end') flow = 0;
    else if (type === 'doc-start' || type === 'doc-end') open.length = 0;
    else if (type === 'flow-map-start' || type === 'flow-seq-start') flow++;
    else if (type === 'flow-map-end' || type === 'flow-seq-end') flow = Math.max(0, flow - 1);
    else if (flow === 0 && type !== 'space' && type !== 'comment' && type !== 'newline') {
      if (startsNode) nodeCol = col;
      startsNode = false;
      if (type === 'seq-item-ind') enter(col, 'seq');
      else if (type === 'explicit-key-ind') enter(col, 'map');
      else if (type === 'map-value-ind') enter(nodeCol, 'map');
      if (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind') startsNode = true;
    }
    max = Math.max(max, open.length + flow);
    if (max > limit) return max;
    const newline = token.lastIndexOf('\n');
    if (newline === -1) col += token.length;
    else {
      col = token.length - newline - 1;
      startsNode = true;
    }
  }
  return max;
}
