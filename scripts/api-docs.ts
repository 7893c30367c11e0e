/**
 * Writes the API reference (Markdown) from the compiled descriptor set:
 *
 *   tsx scripts/api-docs.ts src/gen/tessera.binpb docs/api
 *
 * One page per tessera .proto file plus an index, from the proto comments
 * (the descriptor set must keep source info: `buf build -o` does by default).
 * `npm run docs` regenerates docs/api/; `npm run check:docs` (`--check`) fails,
 * naming the pages, when docs/api/ differs from what the protos give.
 */
import { createFileRegistry, fromBinary, getOption, hasOption, ScalarType } from '@bufbuild/protobuf';
import type { DescEnum, DescExtension, DescField, DescFile, DescMessage, DescMethod, DescService } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const PACKAGE_PREFIX = 'tessera/';

/** Leading comments of one file, by source path (`4,0,2,1` = message 0, field 1). */
type Comments = Map<string, string>;

function commentsOf(file: DescFile): Comments {
  const comments: Comments = new Map();
  for (const location of file.proto.sourceCodeInfo?.location ?? []) {
    if (location.leadingComments) comments.set(location.path.join(','), tidy(location.leadingComments));
  }
  return comments;
}

/** A proto comment without the single space after `//`, trailing blanks trimmed. */
function tidy(comment: string): string {
  return comment
    .split('\n')
    .map((line) => line.replace(/^ /, '').trimEnd())
    .join('\n')
    .trim();
}

/** A comment inside a table cell: one line, pipes escaped. */
function cell(comment: string | undefined): string {
  return (comment ?? '').replace(/\n+/g, ' ').replace(/\|/g, '\\|');
}

function pageOf(file: DescFile): string {
  return `${file.name.slice(PACKAGE_PREFIX.length)}.md`;
}

/** A link to a type's section: on the same page, on another tessera page, or plain text for google types. */
function typeLink(typeName: string, file: DescFile | undefined, from: DescFile): string {
  if (!file || !file.name.startsWith(PACKAGE_PREFIX)) return `\`${typeName}\``;
  const page = file === from ? '' : relative(dirname(pageOf(from)), pageOf(file));
  return `[\`${typeName}\`](${page}#${typeName.toLowerCase()})`;
}

function fieldType(field: DescField, from: DescFile): string {
  const named = (desc: DescMessage | DescEnum) => typeLink(desc.typeName, desc.file, from);
  switch (field.fieldKind) {
    case 'scalar':
      return `\`${ScalarType[field.scalar].toLowerCase()}\``;
    case 'enum':
      return named(field.enum);
    case 'message':
      return named(field.message);
    case 'list':
      return `repeated ${field.listKind === 'scalar' ? `\`${ScalarType[field.scalar].toLowerCase()}\`` : named(field.listKind === 'enum' ? field.enum : field.message)}`;
    case 'map': {
      const value =
        field.mapKind === 'scalar'
          ? `\`${ScalarType[field.scalar].toLowerCase()}\``
          : named(field.mapKind === 'enum' ? field.enum : field.message);
      return `map<\`${ScalarType[field.mapKey].toLowerCase()}\`, ${value}>`;
    }
  }
}

function accessOf(method: DescMethod, policy: DescExtension | undefined): string | undefined {
  if (!policy || !hasOption(method, policy)) return undefined;
  const value = getOption(method, policy) as { public?: boolean; permission?: string };
  if (value.public) return 'public (no credentials)';
  return value.permission ? `permission \`${value.permission}\`` : undefined;
}

function renderService(service: DescService, path: string, comments: Comments, policy: DescExtension | undefined): string[] {
  const out = [`<a id="${service.typeName.toLowerCase()}"></a>`, `### ${service.name}`, '', comments.get(path) ?? '', ''];
  service.methods.forEach((method, j) => {
    const input = typeLink(method.input.typeName, method.input.file, service.file);
    const output = typeLink(method.output.typeName, method.output.file, service.file);
    const stream = method.methodKind === 'server_streaming' ? 'stream ' : '';
    out.push(`#### ${method.name}`, '', `rpc \`${method.name}\` (${input}) returns (${stream}${output})`, '');
    const access = accessOf(method, policy);
    if (access) out.push(`Access: ${access}.`, '');
    out.push(comments.get(`${path},2,${j}`) ?? '', '');
  });
  return out;
}

function renderEnum(desc: DescEnum, path: string, comments: Comments): string[] {
  const out = [`<a id="${desc.typeName.toLowerCase()}"></a>`, `### ${desc.typeName}`, '', comments.get(path) ?? '', ''];
  out.push('| value | number | description |', '|---|---|---|');
  desc.values.forEach((value, j) =>
    out.push(`| \`${value.name}\` | ${value.number} | ${cell(comments.get(`${path},2,${j}`))} |`),
  );
  return [...out, ''];
}

function renderMessage(message: DescMessage, path: string, comments: Comments): string[] {
  const out = [`<a id="${message.typeName.toLowerCase()}"></a>`, `### ${message.typeName}`, '', comments.get(path) ?? '', ''];
  if (message.fields.length > 0) {
    out.push('| field | number | type | description |', '|---|---|---|---|');
    for (const field of message.fields) {
      const j = message.proto.field.indexOf(field.proto);
      const optional = field.proto.proto3Optional ? 'optional ' : '';
      const oneof = field.oneof && !field.proto.proto3Optional ? ` (one of \`${field.oneof.name}\`)` : '';
      out.push(
        `| \`${field.name}\` | ${field.number} | ${optional}${fieldType(field, message.file)} | ${cell(comments.get(`${path},2,${j}`))}${oneof} |`,
      );
    }
    out.push('');
  }
  message.nestedEnums.forEach((nested, k) => out.push(...renderEnum(nested, `${path},4,${k}`, comments)));
  message.nestedMessages.forEach((nested, k) => {
    if (!nested.proto.options?.mapEntry) out.push(...renderMessage(nested, `${path},3,${k}`, comments));
  });
  return out;
}

function renderFile(file: DescFile, policy: DescExtension | undefined): string {
  const comments = commentsOf(file);
  const out = [
    `# ${file.name}.proto`,
    '',
    `Package \`${file.proto.package}\`. Generated from the proto comments by \`npm run docs\`; do not edit.`,
    '',
  ];
  if (file.services.length) {
    out.push('## Services', '');
    file.services.forEach((service, i) => out.push(...renderService(service, `6,${i}`, comments, policy)));
  }
  if (file.messages.length) {
    out.push('## Messages', '');
    file.messages.forEach((message, i) => out.push(...renderMessage(message, `4,${i}`, comments)));
  }
  if (file.enums.length) {
    out.push('## Enums', '');
    file.enums.forEach((desc, i) => out.push(...renderEnum(desc, `5,${i}`, comments)));
  }
  if (file.extensions.length) {
    out.push('## Extensions', '', '| extension | extends | number | type | description |', '|---|---|---|---|---|');
    file.extensions.forEach((ext, i) => {
      const type = ext.fieldKind === 'message' ? typeLink(ext.message.typeName, ext.message.file, file) : `\`${ext.fieldKind}\``;
      out.push(
        `| \`(${ext.typeName})\` | \`${ext.extendee.typeName}\` | ${ext.number} | ${type} | ${cell(comments.get(`7,${i}`))} |`,
      );
    });
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

function renderIndex(files: DescFile[]): string {
  const out = [
    '# Tessera API reference',
    '',
    'Generated by `npm run docs` from the comments of [`proto/`](../../proto) (the compiled descriptor set); do not edit.',
    'Errors carry `google.rpc` details (ErrorInfo, BadRequest, RetryInfo): see [Errors](../../README.md#errors).',
    '',
    '| file | services | summary |',
    '|---|---|---|',
  ];
  for (const file of files) {
    const services = file.services.map((s) => `[${s.name}](${pageOf(file)}#${s.typeName.toLowerCase()})`).join(', ');
    // A service's first paragraph; for a file of types, the types it defines.
    const summary = file.services.length
      ? file.services.map((_, i) => commentsOf(file).get(`6,${i}`)?.split('\n\n')[0] ?? '').join(' ')
      : [...file.messages, ...file.enums].map((d) => `\`${d.name}\``).join(', ');
    out.push(`| [${file.name}.proto](${pageOf(file)}) | ${services} | ${cell(summary)} |`);
  }
  return `${out.join('\n')}\n`;
}

/** Every page of the reference, by path relative to the output folder. */
function renderPages(descriptorSet: string): Map<string, string> {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSet)));
  const files = [...registry.files].filter((f) => f.name.startsWith(PACKAGE_PREFIX)).sort((a, b) => a.name.localeCompare(b.name));
  if (!files.some((f) => f.proto.sourceCodeInfo?.location.some((l) => l.leadingComments))) {
    throw new Error(`${descriptorSet} has no comments: build it with source info (buf build -o, without --exclude-source-info)`);
  }
  const policy = registry.getExtension('tessera.v1.access_policy');
  const pages = new Map(files.map((file) => [pageOf(file), renderFile(file, policy)]));
  return pages.set('README.md', renderIndex(files));
}

/** Markdown files under `dir`, relative to it. */
function pagesOnDisk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.md'));
}

/** Names the pages that differ from what the protos give: changed, missing or left over. */
function stalePages(pages: Map<string, string>, outDir: string): string[] {
  const stale = [...pages].filter(
    ([name, text]) => !existsSync(join(outDir, name)) || readFileSync(join(outDir, name), 'utf8') !== text,
  );
  const leftOver = pagesOnDisk(outDir).filter((name) => !pages.has(name));
  return [...stale.map(([name]) => name), ...leftOver].sort();
}

function main(args: string[]): number {
  const check = args[0] === '--check';
  const [descriptorSet, outDir] = check ? args.slice(1) : args;
  if (!descriptorSet || !outDir) throw new Error('usage: tsx scripts/api-docs.ts [--check] DESCRIPTOR_SET.binpb OUT_DIR');
  const pages = renderPages(descriptorSet);
  if (check) {
    const stale = stalePages(pages, outDir);
    if (stale.length === 0) return 0;
    process.stderr.write(`${outDir} is stale (run npm run docs): ${stale.join(', ')}\n`);
    return 1;
  }
  rmSync(outDir, { recursive: true, force: true });
  for (const [name, text] of pages) {
    mkdirSync(dirname(join(outDir, name)), { recursive: true });
    writeFileSync(join(outDir, name), text);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
