export { CSV_COLUMNS, CSV_EOL, CSV_HEADER, toCsvRow } from './csv';
export { OCSF_VERSION, toOcsf } from './ocsf';
