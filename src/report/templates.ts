import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { PatchlineError } from '../core/errors.js';
import { TEMPLATES_DIR } from '../core/paths.js';

/** Renders resources/templates/<name>, or the user's file of the same name. */
export interface Templates {
  render(name: string, context: object): string;
}

const PARTIALS = 'partials';

/** Where a template comes from: the user's folder first, then ours. */
function locate(name: string, userDir: string | undefined): string {
  if (userDir && existsSync(join(userDir, name))) return join(userDir, name);
  const path = join(TEMPLATES_DIR, name);
  if (!existsSync(path)) throw new PatchlineError('EREPORT', `no template ${name} in ${userDir ? `${userDir} or ` : ''}${TEMPLATES_DIR}`, { input: name });
  return path;
}

/** Only .html templates escape; subjects and text parts are plain text. */
const isHtml = (name: string): boolean => /\.html\.hbs$/.test(name);

/** English plural of the words our templates count: patch(es), mail(s), series. */
function pluralOf(word: string): string {
  if (/s$/.test(word)) return word;
  return /(ch|sh|x)$/.test(word) ? `${word}es` : `${word}s`;
}

function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : ''));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('plural', (n: unknown, word: unknown) => `${String(n)} ${n === 1 ? String(word) : pluralOf(String(word))}`);
}

/**
 * Handlebars in strict mode: a variable the context lacks is an error naming the template,
 * never blank text. Partials (`partials/<name>.hbs`) are shared by all templates.
 */
export function loadTemplates(userDir?: string): Templates {
  const hb = Handlebars.create();
  registerHelpers(hb);
  for (const dir of [TEMPLATES_DIR, userDir]) {
    if (!dir || !existsSync(join(dir, PARTIALS))) continue;
    for (const f of readdirSync(join(dir, PARTIALS))) {
      if (f.endsWith('.hbs')) hb.registerPartial(f.replace(/\.hbs$/, ''), readFileSync(join(dir, PARTIALS, f), 'utf8'));
    }
  }
  const cache = new Map<string, HandlebarsTemplateDelegate>();
  return {
    render(name, context) {
      try {
        let tpl = cache.get(name);
        if (!tpl) {
          const path = locate(name, userDir);
          tpl = hb.compile(readFileSync(path, 'utf8'), { strict: true, noEscape: !isHtml(name) });
          cache.set(name, tpl);
        }
        return tpl(context);
      } catch (err) {
        if (err instanceof PatchlineError) throw err;
        throw new PatchlineError('EREPORT', `template ${name}: ${(err as Error).message.split('\n')[0]}`, { input: name });
      }
    },
  };
}
