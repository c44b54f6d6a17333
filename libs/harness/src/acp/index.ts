export { AcpAdapter, type AcpAdapterOptions } from './adapter';
export { acpCommand, acpToolKind } from './tools';
