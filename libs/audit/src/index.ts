export { AUDIT_SCHEMA } from '@yoke/protocol';
