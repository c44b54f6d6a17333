/**
 * Everything that crosses the wire into the browser is parsed, with the protocol's own schemas (HOUSE-STYLE rule 12),
 * before it reaches React state: by the client library the web shares with the CLI and the terminal UI.
 */
export {
  isAckOk,
  parseDeltaEvent,
  parseErrorBody,
  parseInputAccepted,
  parseItemOrPlaceholder,
  parseItems,
  parseItemsPage,
  parseJoinAck,
  parsePartials,
  parseSession,
  parseSessionPage,
  parseWire,
  WireError,
} from '@yoke/client';
