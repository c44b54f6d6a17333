// The part of semver (no bundled types, no @types/semver installed) that test/engines.spec.ts uses.
declare module 'semver' {
  export function validRange(range: string): string | null;
  export function satisfies(version: string, range: string): boolean;
  export function subset(sub: string, dom: string): boolean;
}
