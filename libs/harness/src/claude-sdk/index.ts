export { ClaudeSdkAdapter, type ClaudeSdkAdapterOptions } from './adapter';
