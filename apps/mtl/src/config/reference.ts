import { z } from 'zod';
import { CONFIG_DESCRIPTIONS } from './descriptions.js';
import { configReferenceSchema, configSchemas, REFUSED_MARK } from './schema.js';

/**
 * One option of the config, as the reference (apps/mtl/CONFIG.md) lists it. Paths use `*` for a
 * name the user chooses (`data.*`, `tasks.*`), `[kind]` for a variant of a union told apart by a
 * constant field (`data.*[csv].delimiter`), and `[]` for the items of a list (`tasks.*.ops[]`).
 */
export interface ConfigOption {
  path: string;
  /** Type and allowed values, e.g. `integer ≥ 1`, `"adam" | "sgd"`, `list of name`. */
  type: string;
  /** The default as JSON, when there is one. */
  default?: string;
  required: boolean;
  /** Where these options were already listed (the same schema reused at another path). */
  sameAs?: string;
  /** The model kinds that read this option (under any other `model.kind` it is an error). */
  modelKinds?: string[];
  description: string;
}

/** An option before descriptions are attached; `schemaDescription` is the schema's own, if any. */
export type ConfigOptionPath = Omit<ConfigOption, 'description'> & { schemaDescription?: string };

type Json = { [key: string]: unknown };

const NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_.-]*$';

/** The JSON Schema of what a user may write, with reused zod schemas as `$defs`. */
function inputJsonSchema(schema: z.ZodType): Json {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', reused: 'ref' }) as Json;
}

class Walker {
  readonly rows: ConfigOptionPath[] = [];
  private readonly documented = new Map<string, string>();
  constructor(private readonly defs: Record<string, Json>) {}

  /**
   * A composite schema (an object, a union of objects...) already listed at another path is
   * listed once, with a pointer (module kinds reused by VAE configs, the CSV and JSONL labels).
   */
  seenAt(row: ConfigOptionPath, resolved: Json): boolean {
    if (!this.isComposite(resolved)) return false;
    const { default: _, description: __, ...shape } = resolved;
    const key = JSON.stringify(shape);
    const first = this.documented.get(key);
    if (first === undefined) {
      this.documented.set(key, row.path);
      return false;
    }
    this.rows.push({ ...row, sameAs: first });
    return true;
  }

  /** The node with its `$ref` merged in (sibling keys such as `default` win). */
  resolve(node: Json): Json {
    const ref = node.$ref;
    if (typeof ref !== 'string') return node;
    const target = this.defs[ref.replace('#/$defs/', '')];
    if (target === undefined) throw new Error(`unresolved ${ref}`);
    const { $ref: _, ...rest } = node;
    return { ...this.resolve(target), ...rest };
  }

  members(node: Json): Json[] | undefined {
    const list = (node.oneOf ?? node.anyOf) as Json[] | undefined;
    return list?.map((m) => this.resolve(m));
  }

  /** The constant field that tells the object members of a union apart (`kind`, `type`). */
  discriminator(objects: Json[]): string | undefined {
    if (objects.length < 2) return undefined;
    const first = Object.keys((objects[0]!.properties ?? {}) as Json);
    return first.find((key) =>
      objects.every((o) => {
        const p = (o.properties as Json | undefined)?.[key] as Json | undefined;
        if (p === undefined) return false;
        const r = this.resolve(p);
        return r.const !== undefined || Array.isArray(r.enum);
      }),
    );
  }

  variantLabel(object: Json, key: string): string {
    const r = this.resolve((object.properties as Json)[key] as Json);
    return r.const !== undefined ? String(r.const) : (r.enum as unknown[]).join('|');
  }

  isComposite(node: Json): boolean {
    const r = this.resolve(node);
    if (r.properties !== undefined) return true;
    if (typeof r.additionalProperties === 'object') return this.isComposite(r.additionalProperties as Json);
    if (r.items !== undefined && !Array.isArray(r.items)) return this.isComposite(r.items as Json);
    return (this.members(r) ?? []).some((m) => this.isComposite(m));
  }

  typeOf(node: Json): string {
    const r = this.resolve(node);
    if (r.const !== undefined) return JSON.stringify(r.const);
    if (Array.isArray(r.enum)) return r.enum.map((v) => JSON.stringify(v)).join(' | ');
    const members = this.members(r);
    if (members !== undefined) {
      const objects = members.filter((m) => m.properties !== undefined);
      const key = this.discriminator(objects);
      const parts = members.map((m) =>
        m.properties !== undefined && key !== undefined
          ? `{${key}: ${this.variantLabel(m, key)}}`
          : this.typeOf(m),
      );
      return [...new Set(parts)].join(' or ');
    }
    switch (r.type) {
      case 'integer':
      case 'number':
        return [r.type, ...bounds(r)].join(' ');
      case 'string':
        if (r.pattern === NAME_PATTERN) return 'name';
        if (r.minLength === 1 && r.maxLength === 1) return 'one character';
        return r.minLength === 1 ? 'non-empty string' : 'string';
      case 'boolean':
        return 'boolean';
      case 'array': {
        if (Array.isArray(r.prefixItems))
          return `[${(r.prefixItems as Json[]).map((i) => this.typeOf(i)).join(', ')}]`;
        const least = typeof r.minItems === 'number' && r.minItems > 0 ? ` (at least ${r.minItems})` : '';
        return `list${least} of ${this.typeOf(r.items as Json)}`;
      }
      case 'object':
        if (r.properties !== undefined) return 'object';
        if (typeof r.additionalProperties === 'object') {
          const key = r.propertyNames === undefined ? 'string' : this.typeOf(r.propertyNames as Json);
          return `map of ${key} → ${this.typeOf(r.additionalProperties as Json)}`;
        }
        return 'object';
      default:
        return Object.keys(r).filter((k) => k !== 'default').length === 0 ? 'not allowed' : 'any';
    }
  }

  /** Rows for `node` at `path` and everything under it. */
  walk(path: string, node: Json, required: boolean): void {
    const r = this.resolve(node);
    // An option of another model kind, refused by this kind's schema: not one of its options.
    if (r[REFUSED_MARK] !== undefined) return;
    const row: ConfigOptionPath = { path, type: this.typeOf(node), required };
    if (typeof r.description === 'string') row.schemaDescription = r.description;
    if (r.default !== undefined && JSON.stringify(r.default) !== '{}')
      row.default = JSON.stringify(r.default);
    if (this.seenAt(row, r)) return;
    this.rows.push(row);
    this.children(path, r);
  }

  children(path: string, r: Json): void {
    if (r.properties !== undefined) {
      const required = new Set((r.required as string[] | undefined) ?? []);
      for (const [key, child] of Object.entries(r.properties as Record<string, Json>)) {
        this.walk(`${path}.${key}`, child, required.has(key));
      }
    } else if (
      typeof r.additionalProperties === 'object' &&
      this.isComposite(r.additionalProperties as Json)
    ) {
      this.walk(`${path}.*`, r.additionalProperties as Json, false);
    } else if (r.items !== undefined && !Array.isArray(r.items) && this.isComposite(r.items as Json)) {
      this.children(`${path}[]`, this.resolve(r.items as Json));
    }
    const members = this.members(r);
    if (members === undefined) return;
    const objects = members.filter((m) => m.properties !== undefined);
    const key = this.discriminator(objects);
    for (const member of members) {
      if (member.properties !== undefined && key !== undefined) {
        this.walkVariant(`${path}[${this.variantLabel(member, key)}]`, member, key);
      } else if (this.isComposite(member)) {
        this.children(path, member);
      }
    }
  }

  walkVariant(path: string, member: Json, key: string): void {
    const row: ConfigOptionPath = {
      path,
      type: `${key}: ${this.typeOf((member.properties as Json)[key] as Json)}`,
      required: false,
    };
    if (typeof member.description === 'string') row.schemaDescription = member.description;
    if (this.seenAt(row, member)) return;
    this.rows.push(row);
    const { [key]: _, ...rest } = member.properties as Record<string, Json>;
    this.children(path, { ...member, properties: rest });
  }
}

function bounds(r: Json): string[] {
  const out: string[] = [];
  if (typeof r.exclusiveMinimum === 'number') out.push(`> ${r.exclusiveMinimum}`);
  else if (typeof r.minimum === 'number' && r.minimum > Number.MIN_SAFE_INTEGER) out.push(`≥ ${r.minimum}`);
  if (typeof r.exclusiveMaximum === 'number') out.push(`< ${r.exclusiveMaximum}`);
  else if (typeof r.maximum === 'number' && r.maximum < Number.MAX_SAFE_INTEGER) out.push(`≤ ${r.maximum}`);
  return out.length === 2 ? [`${out[0]}, ${out[1]}`] : out;
}

/** Does a descriptions key (`[*]` stands for any variant) name this path? */
function keyMatches(key: string, path: string): boolean {
  if (key === path) return true;
  if (!key.includes('[*]')) return false;
  const pattern = key
    .split('[*]')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('\\[[^\\]]+\\]');
  return new RegExp(`^${pattern}$`).test(path);
}

/** The options the schema has, without descriptions (what the completeness test checks against). */
export function configOptionPaths(schema: z.ZodType = configReferenceSchema): ConfigOptionPath[] {
  const json = inputJsonSchema(schema);
  const walker = new Walker((json.$defs ?? {}) as Record<string, Json>);
  const required = new Set((json.required as string[] | undefined) ?? []);
  for (const [key, child] of Object.entries(json.properties as Record<string, Json>)) {
    walker.walk(key, child, required.has(key));
  }
  return walker.rows;
}

const isModelPath = (path: string) => path === 'model' || /^model[.[]/.test(path);

/**
 * The model kinds that read each option: those whose own config schema has it. `model[vmtl]...`
 * belongs to its variant; `model` itself to every kind. Throws naming an option of a kind that
 * the flat reference schema lacks (the reference would hide it).
 */
function modelKindsOf(paths: readonly string[], kinds: Readonly<Record<string, z.ZodType>>): string[][] {
  const names = Object.keys(kinds);
  const own = new Map(
    names.map((kind) => [
      kind,
      new Set(
        configOptionPaths(kinds[kind]!)
          .map((o) => o.path)
          .filter((p) => !isModelPath(p)),
      ),
    ]),
  );
  const listed = new Set(paths);
  const hidden = names.flatMap((kind) =>
    [...own.get(kind)!].filter((p) => !listed.has(p)).map((p) => `"${p}" (model kind ${kind})`),
  );
  if (hidden.length > 0) {
    throw new Error(`the reference schema lacks the config option ${hidden.join(', ')}`);
  }
  return paths.map((path) => {
    const variant = /^model\[([^\]]+)\]/.exec(path);
    if (variant !== null) return variant[1]!.split('|');
    if (path === 'model') return names;
    return names.filter((kind) => own.get(kind)!.has(path));
  });
}

/**
 * Every option of the `mtl` config with its description: from the schema's own description
 * (`.meta({ description })` / `.describe()`) or from CONFIG_DESCRIPTIONS (exact path, or a key
 * with `[*]` for every variant). Throws naming every option without one and every description
 * key that matches no option, so that the reference cannot drift from the schemas. With `kinds`
 * (one config schema per model kind; the default for the default schema), each option says which
 * model kinds read it.
 * @example
 * const delimiter = configReference().find((o) => o.path === 'data.*[csv].delimiter');
 * configReference().find((o) => o.path === 'tasks.*.ops')?.modelKinds; // ['multitask']
 */
export function configReference(
  schema: z.ZodType = configReferenceSchema,
  descriptions: Record<string, string> = CONFIG_DESCRIPTIONS,
  kinds: Readonly<Record<string, z.ZodType>> | undefined = schema === configReferenceSchema
    ? configSchemas
    : undefined,
): ConfigOption[] {
  const rows = configOptionPaths(schema);
  const keys = Object.keys(descriptions);
  const missing: string[] = [];
  const applies =
    kinds === undefined
      ? undefined
      : modelKindsOf(
          rows.map((r) => r.path),
          kinds,
        );
  const out = rows.map(({ schemaDescription, ...row }, i): ConfigOption => {
    const modelKinds = applies === undefined ? {} : { modelKinds: applies[i]! };
    if (row.sameAs !== undefined) {
      return { ...row, ...modelKinds, description: `The same options as \`${row.sameAs}\`.` };
    }
    const key = keys.find((k) => k === row.path) ?? keys.find((k) => keyMatches(k, row.path));
    const description = key === undefined ? schemaDescription : descriptions[key]!;
    if (description === undefined) missing.push(row.path);
    return { ...row, ...modelKinds, description: description ?? '' };
  });
  const unknown = keys.filter((k) => !rows.some((row) => keyMatches(k, row.path)));
  const problems = [
    ...missing.map(
      (p) => `config option "${p}" has no description (add it to apps/mtl/src/config/descriptions.ts)`,
    ),
    ...unknown.map((k) => `description "${k}" names no config option (remove or rename it)`),
  ];
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return out;
}

/**
 * The reference as Markdown: one table per top-level section.
 * @example
 * writeFileSync('apps/mtl/CONFIG.md', renderConfigReference());
 */
export function renderConfigReference(options: ConfigOption[] = configReference()): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '# mtl config reference',
    '',
    '<!-- Generated from the zod schemas by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Every option of an `mtl` config (YAML or JSON). Unknown keys are errors. `*` stands for a name',
    'you choose (a source, module or task name); `[csv]` marks the options of one variant, chosen by',
    'its `kind` (or `type`) field; `[]` marks the items of a list. A default is filled in when the',
    'option is left out; `config.resolved.yaml` in a run directory shows every value used.',
    '',
  ];
  // Which model kinds read an option, when the options say: another kind refuses it by name.
  const every = [...new Set(options.flatMap((o) => o.modelKinds ?? []))];
  const byKind = every.length > 0;
  if (byKind) {
    lines.push(
      'The *model kinds* column says which `model.kind` reads an option (`all`: every kind). Under',
      'another kind the option is an error naming its path and the kinds that read it, e.g.',
      '`tasks.a.kind: "kind" applies to model kind multitask, not vmtl: ...`.',
      '',
    );
  }
  const kindsCell = (o: ConfigOption) =>
    o.modelKinds === undefined || o.modelKinds.length === every.length ? 'all' : o.modelKinds.join(', ');
  const topOf = (path: string) => path.split(/[.[]/)[0]!;
  const rowsUnder = new Map<string, number>();
  for (const option of options)
    rowsUnder.set(topOf(option.path), (rowsUnder.get(topOf(option.path)) ?? 0) + 1);
  let section: string | undefined;
  for (const option of options) {
    const top = topOf(option.path);
    // Scalar top-level options share one table; each section with options of its own gets one.
    const title = rowsUnder.get(top) === 1 ? 'Top level' : `\`${top}\``;
    if (title !== section) {
      if (section !== undefined) lines.push('');
      section = title;
      lines.push(
        `## ${title}`,
        '',
        byKind
          ? '| option | type | default | model kinds | description |'
          : '| option | type | default | description |',
        byKind ? '|---|---|---|---|---|' : '|---|---|---|---|',
      );
    }
    const def =
      option.default === undefined ? (option.required ? '*required*' : '') : `\`${cell(option.default)}\``;
    const kinds = byKind ? ` ${kindsCell(option)} |` : '';
    lines.push(
      `| \`${cell(option.path)}\` | ${cell(option.type)} | ${def} |${kinds} ${cell(option.description)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
