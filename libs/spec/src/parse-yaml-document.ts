import { type Document, LineCounter, parseDocument } from 'yaml';
import { nestingDepth } from './nesting-depth';
import { yamlErrorMessage } from './yaml-location';

/** Limits on a YAML document that may come from anyone allowed to send one. */
export interface YamlLimits {
  /** Characters in the document. */
  maxLength: number;
  /** Collections inside collections. */
  maxDepth: number;
  /** Alias expansions (`yaml`'s `maxAliasCount`): a handful of aliases can otherwise expand to billions of nodes. */
  maxAliases: number;
}

export interface YamlReadOptions extends YamlLimits {
  /** What the document is, as refusals name it (`agent file`, `policy file`). */
  what: string;
}

/** `unreadable`: the document could not be turned into data for another reason, named in the message. */
export type YamlRefusalKind = 'too_large' | 'too_deep' | 'alias_bomb' | 'unreadable';

/** A document refused as a whole: callers report it at line 1, column 1 as their own error. */
export interface YamlRefusal {
  kind: YamlRefusalKind;
  message: string;
}

export type YamlDocumentResult =
  | {
      ok: true;
      /** Syntax errors are in `doc.errors`, for the caller to place with `lineCounter`. */
      doc: Document.Parsed;
      lineCounter: LineCounter;
      /** The document as plain data, aliases expanded; `undefined` when `doc.errors` is not empty. */
      value: unknown;
    }
  | { ok: false; refusal: YamlRefusal };

/**
 * Parses YAML that may be hostile: refuses a document over `maxLength` characters, one nested past `maxDepth` (checked
 * from the lexer before composing: the composer recurses once per level, and a deep enough document overflows the
 * stack and can abort the process) and one whose aliases expand more than `maxAliases` times.
 */
export function parseYamlDocument(text: string, options: YamlReadOptions): YamlDocumentResult {
  const { what, maxLength, maxDepth, maxAliases } = options;
  const refuse = (kind: YamlRefusalKind, message: string): YamlDocumentResult => ({
    ok: false,
    refusal: { kind, message },
  });
  if (text.length > maxLength) {
    return refuse('too_large', `${what} is too large (${text.length} characters; the limit is ${maxLength})`);
  }
  if (nestingDepth(text, maxDepth) > maxDepth) {
    return refuse('too_deep', `${what} nests collections more than ${maxDepth} levels deep`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: false });
  if (doc.errors.length > 0) return { ok: true, doc, lineCounter, value: undefined };
  try {
    return { ok: true, doc, lineCounter, value: doc.toJS({ maxAliasCount: maxAliases }) };
  } catch (e) {
    return e instanceof ReferenceError && /alias count/i.test(e.message)
      ? refuse('alias_bomb', `${what} expands aliases more than ${maxAliases} times (an alias bomb?)`)
      : refuse('unreadable', yamlErrorMessage((e as Error).message));
  }
}
