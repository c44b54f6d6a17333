export {
  parseYamlDocument,
  yamlErrorMessage,
  type YamlDocumentResult,
  type YamlLimits,
  type YamlReadOptions,
  type YamlRefusal,
  type YamlRefusalKind,
} from './parse-yaml-document';
export { nestingDepth } from './nesting-depth';
