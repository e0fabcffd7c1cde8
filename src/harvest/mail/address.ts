/** git mailinfo's author rules (handle_from, unquote_quoted_pair, get_sane_name), on byte strings. */

/** git's isspace(): only these four. */
export function isGitSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Collapse every run of whitespace to one space (git's cleanup_space). */
export function cleanupSpace(s: string): string {
  return s.replace(/[ \t\n\r]+/g, ' ');
}

export function gitTrim(s: string): string {
  return s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}

function unquoteQuotedString(s: string, from: number): { text: string; next: number } {
  let text = '';
  let literal = false;
  let i = from;
  while (i < s.length) {
    const c = s[i++]!;
    if (literal) literal = false;
    else if (c === '"') return { text, next: i };
    else if (c === '\\') {
      literal = true;
      continue;
    }
    text += c;
  }
  return { text, next: i };
}

function unquoteComment(s: string, from: number): { text: string; next: number } {
  let text = '(';
  let literal = false;
  let depth = 1;
  let i = from;
  while (i < s.length) {
    const c = s[i++]!;
    if (literal) literal = false;
    else if (c === '\\') {
      literal = true;
      continue;
    } else if (c === '(') depth++;
    else if (c === ')') {
      text += ')';
      if (--depth === 0) return { text, next: i };
      continue;
    }
    text += c;
  }
  return { text, next: i };
}

/** Remove RFC 822 quoting: `"a \"b\""` -> `a "b"`, comments keep their parentheses. */
export function unquoteQuotedPair(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i++]!;
    if (c === '\0') break;
    if (c === '"' || c === '(') {
      const r = c === '"' ? unquoteQuotedString(s, i) : unquoteComment(s, i);
      out += r.text;
      i = r.next;
      continue;
    }
    out += c;
  }
  return out;
}

function saneName(name: string, email: string): string {
  return name.length === 0 || name.length > 60 || /[@<>]/.test(name) ? email : name;
}

/** `John Doe <johndoe>`: no @ at all. */
function parseBogusFrom(from: string): { name: string; email: string } | undefined {
  const bra = from.indexOf('<');
  if (bra < 0) return undefined;
  const ket = from.indexOf('>', bra);
  if (ket < 0) return undefined;
  const email = from.slice(bra + 1, ket);
  return { email, name: saneName(gitTrim(from.slice(0, bra)), email) };
}

/**
 * Author name and email from a decoded From: value, exactly as git mailinfo's handle_from():
 * `Name <a@b>`, `a@b (Name)`, `"Last, First" <a@b>`. Undefined when there is no address at all.
 */
export function parseAuthor(value: string): { name: string; email: string } | undefined {
  const cleaned = cleanupSpace(value);
  let f = unquoteQuotedPair(cleaned);
  let at = f.indexOf('@');
  if (at < 0) return parseBogusFrom(cleaned);
  while (at > 0) {
    const c = f[at - 1]!;
    if (isGitSpace(c)) break;
    if (c === '<') {
      f = f.slice(0, at - 1) + ' ' + f.slice(at);
      break;
    }
    at--;
  }
  let el = 0;
  while (at + el < f.length && !' \n\t\r\v\f>'.includes(f[at + el]!)) el++;
  const email = f.slice(at, at + el);
  f = f.slice(0, at) + f.slice(at + el + (at + el < f.length ? 1 : 0));
  let name = gitTrim(cleanupSpace(f));
  if (name.startsWith('(') && name.endsWith(')')) name = name.slice(1, -1);
  return { email, name: saneName(name, email) };
}
