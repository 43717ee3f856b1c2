/** Go's `path.Match`, which Podman's filters and Docker's COPY sources use. */

/** Go's path.Match: `*` and `?` stop at "/", `[...]` classes. */
export function globMatch(pattern: string, text: string): boolean {
  const re = pattern.replace(
    /\\(.)|(\[!?[^\]]*\])|([*?])|([.+^${}()|\\/])/g,
    (_, esc, cls, wild, lit) =>
      esc !== undefined
        ? `\\${esc}`
        : cls !== undefined
        ? cls.replace(/^\[!/, "[^")
        : wild !== undefined
        ? wild === "*" ? "[^/]*" : "[^/]"
        : `\\${lit}`,
  );
  try {
    return new RegExp(`^${re}$`).test(text);
  } catch {
    return false;
  }
}
