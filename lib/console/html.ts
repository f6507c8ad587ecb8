/**
 * Safe-by-construction markup for the console: the `html` tag escapes every interpolated value
 * unless it is markup made by `html` itself (or an array of such), so a kid, an issuer or a
 * claim can never become markup. No templating language, no DOM; strings in, a string out.
 * @module
 */

/** Markup that is already safe to embed. Only `html` and {@linkcode trusted} make one. */
export interface Markup {
  readonly markup: string;
  toString(): string;
}

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for an HTML (or inline SVG) text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** Every value `markup()` made: a look-alike object (say, from parsed JSON) is not markup. */
const made = new WeakSet<object>();

function markup(text: string): Markup {
  const value = Object.freeze({ markup: text, toString: () => text });
  made.add(value);
  return value;
}

/** Wraps a constant string that is known to be markup (a doctype, a fixed fragment). */
export function trusted(text: string): Markup {
  return markup(text);
}

function isMarkup(value: unknown): value is Markup {
  return typeof value === "object" && value !== null && made.has(value);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return "";
  if (isMarkup(value)) return value.markup;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/**
 * Tagged template for markup. Values are escaped; `null`, `undefined` and `false` render as
 * nothing (for optional parts); arrays are concatenated.
 *
 * @example
 * ```ts
 * html`<code>${'<script>'}</code>`.markup; // "<code>&lt;script&gt;</code>"
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return markup(out);
}

/**
 * The opening of every page of ours, up to `<body>`: doctype, charset, a phone-sized viewport,
 * no referrer, `title`, no favicon request, the same-origin stylesheet `css`, then `extra`.
 */
export function pageStart(title: string, css: string, extra: Markup | null = null): Markup {
  return html`
    ${trusted("<!doctype html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>${title}</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="${css}">
        ${extra}
      </head>
  `;
}
