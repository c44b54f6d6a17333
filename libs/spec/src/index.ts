export * from './agent-spec';
export {
  parseYamlDocument,
  type YamlDocumentResult,
  type YamlLimits,
  type YamlReadOptions,
  type YamlRefusal,
  type YamlRefusalKind,
} from './parse-yaml-document';
export { nestingDepth } from './nesting-depth';
export * from './yaml-location';
