/**
 * docs/config.md, generated from the config schemas (resources/schemas/config.schema.json and
 * config/*.schema.json): every key with its type, default and description, an example config,
 * and the environment variables patchline reads. `npm run docs:config` rewrites the file;
 * test/ship/config-docs.test.ts fails when it is out of date.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_ENV, LOCAL_CONFIG, SYSTEM_CONFIG } from '../core/config-discovery.js';
import { PACKAGE_ROOT, SCHEMAS_DIR } from '../core/paths.js';

type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema | boolean>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  allOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  if?: Schema;
  then?: Schema;
};

export const CONFIG_DOCS = join(PACKAGE_ROOT, 'docs', 'config.md');

/** Every config schema by its $id. */
function loadSchemas(): Map<string, Schema> {
  const files = ['config.schema.json', ...readdirSync(join(SCHEMAS_DIR, 'config')).filter((f) => f.endsWith('.schema.json')).sort().map((f) => `config/${f}`)];
  return new Map(files.map((f) => [f, JSON.parse(readFileSync(join(SCHEMAS_DIR, f), 'utf8')) as Schema]));
}

interface Located {
  schema: Schema;
  /** The $id of the file it is in (relative $refs resolve against it). */
  file: string;
  /** The name of the $defs entry a $ref pointed at. */
  def?: string;
}

class SchemaSet {
  constructor(private readonly byId: Map<string, Schema>) {}

  /** Follow $refs; a description beside a $ref wins over the target's. */
  resolve(schema: Schema, file: string): Located {
    if (!schema.$ref) return { schema, file };
    const target = new URL(schema.$ref, `schema:/${file}`);
    const id = target.pathname.replace(/^\//, '');
    const doc = this.byId.get(id);
    if (!doc) throw new Error(`config docs: ${file}: $ref ${schema.$ref} names no known schema`);
    const pointer = decodeURIComponent(target.hash.replace(/^#/, ''));
    let node: unknown = doc;
    for (const part of pointer.split('/').filter(Boolean)) node = (node as Record<string, unknown>)[part];
    if (!node) throw new Error(`config docs: ${file}: $ref ${schema.$ref} points at nothing`);
    const inner = this.resolve(node as Schema, id);
    const { $ref: _ref, ...beside } = schema;
    return { schema: { ...inner.schema, ...beside }, file: inner.file, def: inner.def ?? pointer.split('/').pop() };
  }
}

export interface KeyDoc {
  key: string;
  type: string;
  default: string;
  description: string;
}

const code = (s: string) => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function describeType(loc: Located, set: SchemaSet): string {
  const s = loc.schema;
  if (loc.def === 'secret') return 'secret: `{ env: NAME }` or `{ file: PATH }`';
  if (s.enum) return `one of ${s.enum.map((v) => code(String(v))).join(', ')}`;
  if (s.const !== undefined) return code(String(s.const));
  const alternatives = s.type === undefined ? (s.oneOf ?? (s.anyOf as Schema[] | undefined)) : undefined;
  if (alternatives) return alternatives.map((a) => describeType(set.resolve(a, loc.file), set)).join(', or ');
  const type = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  const bounds: string[] = [];
  if (typeof s.minimum === 'number') bounds.push(`≥ ${s.minimum}`);
  if (typeof s.maximum === 'number') bounds.push(`≤ ${s.maximum}`);
  if (type === 'array' && s.items) {
    const item = set.resolve(s.items, loc.file);
    return `list of ${item.schema.type === 'object' ? 'objects' : describeType(item, set)}${s.minItems ? ` (at least ${String(s.minItems)})` : ''}${s.uniqueItems ? ', no duplicates' : ''}`;
  }
  if (type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') return 'map of name → object';
  const pattern = typeof s.pattern === 'string' ? ` matching ${code(s.pattern)}` : '';
  return `${type ?? 'any'}${bounds.length ? ` ${bounds.join(', ')}` : ''}${pattern}`;
}

/** `required when builder is koji` for keys an if/then makes required. */
function conditionalRequired(s: Schema): Map<string, string> {
  const out = new Map<string, string>();
  for (const branch of s.allOf ?? []) {
    const cond = Object.entries(branch.if?.properties ?? {}).find(([, v]) => typeof v === 'object' && (v as Schema).const !== undefined);
    if (!cond) continue;
    for (const key of branch.then?.required ?? []) out.set(key, `required when ${cond[0]} is ${String((cond[1] as Schema).const)}`);
  }
  return out;
}

/** The keys of an object schema, one row each; nested objects get their own rows (`report.smtp.host`). */
function objectRows(loc: Located, prefix: string, set: SchemaSet, extraRequired = new Map<string, string>()): KeyDoc[] {
  const rows: KeyDoc[] = [];
  const required = new Set(loc.schema.required ?? []);
  const conditional = new Map([...conditionalRequired(loc.schema), ...extraRequired]);
  for (const [name, raw] of Object.entries(loc.schema.properties ?? {})) {
    if (typeof raw === 'boolean') continue;
    const child = set.resolve(raw, loc.file);
    const key = `${prefix}${name}`;
    const need = required.has(name) ? ', **required**' : conditional.has(name) ? `, ${conditional.get(name)}` : '';
    rows.push({
      key,
      type: `${describeType(child, set)}${need}`,
      default: child.schema.default === undefined ? '' : code(JSON.stringify(child.schema.default)),
      description: child.schema.description ?? '',
    });
    const s = child.schema;
    if (s.type === 'object' && s.properties && Object.keys(s.properties).length > 0) rows.push(...objectRows(child, `${key}.`, set));
    // a map of named objects (upstream.projects.<name>): the rows of one entry
    const entry = s.type === 'object' && typeof s.additionalProperties === 'object' ? set.resolve(s.additionalProperties, child.file) : undefined;
    if (entry?.schema.type === 'object' && entry.schema.properties) rows.push(...objectRows(entry, `${key}.<name>.`, set));
    const item = s.type === 'array' && s.items ? set.resolve(s.items, child.file) : undefined;
    if (item?.schema.type === 'object' && item.schema.properties) rows.push(...objectRows(item, `${key}[].`, set));
  }
  return rows;
}

function table(rows: KeyDoc[]): string {
  const lines = ['| Key | Type | Default | Description |', '|-----|------|---------|-------------|'];
  for (const r of rows) lines.push(`| ${code(r.key)} | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`);
  return lines.join('\n');
}

interface Section {
  title: string;
  intro?: string;
  rows: KeyDoc[];
}

/** The sections of the reference, in the order of a config file. */
export function configSections(byId = loadSchemas()): Section[] {
  const set = new SchemaSet(byId);
  const root: Located = { schema: byId.get('config.schema.json')!, file: 'config.schema.json' };
  const prop = (name: string) => set.resolve(root.schema.properties![name] as Schema, root.file);
  const top = objectRows(root, '', set).filter((r) => !r.key.includes('.'));
  const sections: Section[] = [{ title: 'Top level', intro: root.schema.description, rows: top }];

  // sources: the common keys, then one table per type (an if/then per type in the schema)
  const source = set.resolve((prop('sources').schema.items ?? {}) as Schema, prop('sources').file);
  sections.push({ title: 'sources[]', intro: 'Where mail comes from; every source has these keys.', rows: objectRows(source, 'sources[].', set) });
  for (const branch of source.schema.allOf ?? []) {
    const type = String(((branch.if?.properties?.type ?? {}) as Schema).const);
    const then: Located = { schema: { ...branch.then, properties: Object.fromEntries(Object.entries(branch.then?.properties ?? {}).filter(([, v]) => typeof v !== 'boolean')) }, file: source.file };
    sections.push({ title: `sources[] with type: ${type}`, rows: objectRows(then, 'sources[].', set) });
  }

  const repo = set.resolve((prop('repos').schema.additionalProperties ?? {}) as Schema, prop('repos').file);
  sections.push({ title: 'repos.<name>', intro: 'One entry per repository; the name is what mail subjects and the status page call it.', rows: objectRows(repo, 'repos.<name>.', set) });

  const platforms = prop('platforms');
  const platform: Located = set.resolve(platforms.schema.items!, platforms.file);
  sections.push({ title: 'platforms[]', intro: platforms.schema.description, rows: objectRows(platform, 'platforms[].', set) });

  // every other object section, in the order of the schema
  for (const name of Object.keys(root.schema.properties!)) {
    const loc = prop(name);
    if (['sources', 'repos', 'platforms'].includes(name) || loc.schema.type !== 'object') continue;
    sections.push({ title: name, intro: loc.schema.description, rows: objectRows(loc, `${name}.`, set) });
  }
  return sections;
}

/** Every environment variable patchline reads; test/ship/config-docs.test.ts finds the ones src/ reads in this list. */
export const ENVIRONMENT: Array<[name: string, what: string]> = [
  [CONFIG_ENV, `The config file when \`--config\` is not given (before ./${LOCAL_CONFIG} and ${SYSTEM_CONFIG}).`],
  ['PATCHLINE_DEBUG', 'Set to anything: an internal error (EINTERNAL) prints its stack trace after its one line.'],
  ['CI', 'Set: no progress bars (they are also off when stderr is not a terminal).'],
  ['PATH', 'Where git, rpmbuild, rpmspec, rpm, createrepo_c, rsync and mock are found (a local platform with `mock` builds with mock only when it is on PATH).'],
  ['HOME', "Koji's own config files (~/.koji/config, ~/.koji/config.d/*.conf), `~` in Koji profile paths, ssh keys and known_hosts for git and rsync."],
  ['USER', '`patchline approve`: who approved, when --by is not given.'],
  ['TMPDIR', 'Scratch directories (the demo seeding its repo, `patchline check` reading specs).'],
  ['JENKINS_URL', '`patchline jenkins`: the Jenkins base URL (wins over jenkins.url).'],
  ['JENKINS_USER', '`patchline jenkins`: the user of the API token (wins over jenkins.user).'],
  ['JENKINS_API_TOKEN', '`patchline jenkins`: the API token when jenkins.token names none.'],
  ['PATCHLINE_KOJI_CERT', "A PEM file (client certificate and key) used instead of the Koji profile's `cert` (e.g. a Jenkins secret file)."],
  ['PATCHLINE_KOJI_SERVERCA', "A CA bundle used instead of the Koji profile's `serverca`."],
  ['PATCHLINE_SERVER_USER', '`patchline track ... --server URL`: the user to authenticate as, when --user is not given.'],
  ['PATCHLINE_SERVER_PASSWORD', '`patchline track ... --server URL`: the password, when --password-file is not given (never on the command line).'],
  ['PATCHLINE_UPSTREAM_KILL_AT', 'Crash testing only: `patchline upstream` SIGKILLs itself at the named point (test/upstream/kill.test.ts).'],
  ['PATCHLINE_TRACK_KILL_AT', 'Crash testing only: `patchline track scan` SIGKILLs itself at the named point (preparing, stored, pushed, recorded, sent, mailed).'],
  ['GIT_CONFIG_GLOBAL', 'A git config file every git command reads whole; without it only the credential, http and url sections of ~/.gitconfig and the system git config are used.'],
  ['GIT_SSH_COMMAND', 'The ssh git uses (default `ssh -o BatchMode=yes`: never a password prompt).'],
  ['GIT_ASKPASS, GIT_SSH, GIT_SSH_VARIANT, GIT_SSL_CAINFO, GIT_SSL_CAPATH, GIT_SSL_CERT, GIT_SSL_KEY, GIT_TRACE*, GIT_CURL_VERBOSE, GIT_USERNAME, GIT_PASSWORD', 'Passed on to git; every other GIT_* variable is dropped.'],
  ['SSH_AUTH_SOCK, SSH_ASKPASS, http_proxy, https_proxy, no_proxy, ALL_PROXY, SSL_CERT_FILE, SSL_CERT_DIR, CURL_CA_BUNDLE', 'Passed on to git (reaching a remote over ssh or https). The tools patchline runs get only these, PATH, HOME, USER, LOGNAME, TMPDIR, TZ, LANG and LC_*: never a PATCHLINE_* variable nor one the config names as a secret.'],
  ['any `{ env: NAME }` of the config', 'The secrets the config names (IMAP and SMTP passwords, the Koji password, the Jenkins token).'],
];

/** A config using most sections (test/ship/config-docs.test.ts validates it against the schema). */
export const EXAMPLE_CONFIG = `# patchline.yaml
stateDir: /var/lib/patchline
sources:
  - name: qemu-devel
    type: imap
    host: imap.example.org
    user: patchline
    password: { env: PATCHLINE_IMAP_PASSWORD }
    mailbox: lists/qemu-devel
  - name: archive
    type: mbox
    path: mail/archive.mbox
    route: { repo: qemu, branch: master }
repos:
  qemu:
    url: https://git.example.org/qemu.git
    branches: [master, stable-9.0]
    allowedSenders: ["@example.org"]
    build:
      spec: qemu.spec
    report:
      recipients: [qemu-team@example.org]
apply:
  committer: { name: patchline, email: patchline@example.org }
  pushPattern: patchline/{branch}/{date}
platforms:
  - name: fedora-40
    builder: koji
    target: f40-candidate
    dist: .fc40
  - name: el9
    builder: local
build:
  kojiProfile: koji
  scratch: true
publish:
  destination: repos.example.org:/srv/www/patchline
  baseUrl: https://repos.example.org/patchline
  keep: 3
report:
  recipients: [maintainers@example.org]
  smtp:
    host: smtp.example.org
    from: "patchline <patchline@example.org>"
    user: patchline
    password: { file: /etc/patchline/smtp-password }
run:
  lockWaitSeconds: 600
`;

export function renderConfigDocs(): string {
  const parts = [
    '# patchline.yaml reference',
    '',
    '<!-- Generated from resources/schemas/config.schema.json and resources/schemas/config/*.schema.json by `npm run docs:config` (src/tools/config-docs.ts). Do not edit: change the schemas and run it again. -->',
    '',
    '## Where patchline finds its config',
    '',
    'Every command takes the first of:',
    '',
    '1. `--config FILE` (`-c FILE`);',
    `2. the file named by the environment variable \`${CONFIG_ENV}\`;`,
    `3. \`./${LOCAL_CONFIG}\` in the current directory;`,
    `4. \`${SYSTEM_CONFIG}\`.`,
    '',
    'A file named by the option or the variable must exist (no fallback to the next place). Relative',
    'paths in the config are relative to the config file. `patchline check` checks a config and',
    'everything a run would need without changing anything.',
    '',
    '## Secrets',
    '',
    'A secret is never written in the config: it is `{ env: NAME }` (an environment variable) or',
    '`{ file: PATH }` (the first line of a file, relative to the config file).',
    '',
    '## Example',
    '',
    '```yaml',
    EXAMPLE_CONFIG.trimEnd(),
    '```',
    '',
  ];
  for (const s of configSections()) {
    parts.push(`## ${s.title}`, '');
    if (s.intro) parts.push(s.intro, '');
    parts.push(s.rows.length > 0 ? table(s.rows) : 'No keys.', '');
  }
  parts.push('## Environment variables', '', '| Variable | What it does |', '|----------|--------------|');
  for (const [name, what] of ENVIRONMENT) parts.push(`| ${name.startsWith('any ') ? name : name.split(', ').map(code).join(', ')} | ${cell(what)} |`);
  parts.push('');
  return parts.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_DOCS, renderConfigDocs());
  process.stderr.write(`wrote ${CONFIG_DOCS}\n`);
}
