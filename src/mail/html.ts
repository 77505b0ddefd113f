/** Escapes text for HTML content and attribute values; every dynamic value in a page or mail goes through it. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tagged template that escapes every interpolated value unless it is already `SafeHtml`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    const piece = Array.isArray(v)
      ? v.map((x) => (x instanceof SafeHtml ? x.value : escapeHtml(String(x)))).join('')
      : v instanceof SafeHtml
        ? v.value
        : escapeHtml(String(v ?? ''));
    out += piece + strings[i + 1]!;
  });
  return new SafeHtml(out);
}
