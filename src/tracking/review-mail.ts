/**
 * The review series of a scan: `git format-patch` of the tracking branch's commits on the
 * packaging branch, in patchline's subject grammar (`[<branch> PATCH <repo> n/m]`), threaded to a
 * cover letter `0/m` naming the upstream range and the pushed branch. The harvest groups them as
 * one series and apply puts them on the packaging branch (the loop closes).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { PatchlineError } from '../core/errors.js';
import type { Git } from '../git/git.js';
import type { ComposedMail } from '../report/compose.js';
import type { Templates } from '../report/templates.js';
import type { TrackingItem } from './types.js';
import type { RangeCommit, UpstreamPatch } from './upstream.js';

export interface ReviewContext {
  item: TrackingItem;
  range: { from: string; to: string; commits: number };
  commits: RangeCommit[];
  patches: UpstreamPatch[];
  empty: RangeCommit[];
  trackingBranch: string;
  branchUrl?: string;
  percentPatch: boolean;
  from: string;
  to: string[];
  /** Unique per attempt: part of every Message-ID. */
  stamp: string;
  date: Date;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);

/** The Message-ID of mail `n` (0 = cover) of a review attempt, without brackets. */
export function reviewMessageId(ctx: Pick<ReviewContext, 'item' | 'range' | 'stamp' | 'from'>, n: number): string {
  const domain = /@([^>\s]+)/.exec(ctx.from)?.[1] ?? 'localhost';
  // not `patchline.*`: the harvest ignores those as patchline's own report mails, and these must be applied
  return `patch-tracking.${slug(ctx.item.repo)}.${slug(ctx.item.branch)}.${ctx.range.from.slice(0, 12)}-${ctx.range.to.slice(0, 12)}.${ctx.stamp}.${n}@${domain}`;
}

/** The header block and body of a format-patch file (its mbox `From <sha>` line dropped). */
function splitPatchFile(text: string): { headers: string[]; body: string } {
  const lines = text.split('\n');
  if (lines[0]?.startsWith('From ')) lines.shift();
  const blank = lines.indexOf('');
  if (blank < 0) throw new PatchlineError('EINTERNAL', 'git format-patch wrote a file without a header block');
  return { headers: lines.slice(0, blank), body: lines.slice(blank + 1).join('\n') };
}

/** A format-patch file as a mail of the series: its own headers (From, Date, Subject, MIME), plus To, Message-ID and the thread. */
function patchMail(text: string, to: string[], messageId: string, cover: string): Buffer {
  const { headers, body } = splitPatchFile(text);
  const kept = headers.filter((h, i) => !/^(To|Cc|Message-Id|In-Reply-To|References):/i.test(h) && !(/^\s/.test(h) && i > 0 && /^(To|Cc|Message-Id|In-Reply-To|References):/i.test(headers[i - 1]!)));
  const head = [...kept, `To: ${to.join(', ')}`, `Message-ID: <${messageId}>`, `In-Reply-To: <${cover}>`, `References: <${cover}>`, 'X-Mailer: patchline'];
  if (!kept.some((h) => /^MIME-Version:/i.test(h))) head.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit');
  return Buffer.from(`${head.join('\n')}\n\n${body}`, 'utf8');
}

/** The cover letter and the patches of the review, ready for storeMails (files 00-cover.eml, 01-...). */
export async function composeReview(work: Git, base: string, outDir: string, ctx: ReviewContext, templates: Templates): Promise<ComposedMail[]> {
  const files = (await work.output(['format-patch', '--numbered', '--no-signature', `--subject-prefix=${ctx.item.branch} PATCH ${ctx.item.repo}`, '-o', outDir, `${base}..HEAD`])).split('\n').filter(Boolean);
  const total = files.length;
  const coverId = reviewMessageId(ctx, 0);
  const view = {
    repo: ctx.item.repo,
    branch: ctx.item.branch,
    spec: ctx.item.spec,
    upstreamUrl: ctx.item.upstreamUrl,
    upstreamBranch: ctx.item.upstreamBranch,
    packagingUrl: ctx.item.packagingUrl,
    total,
    range: { ...ctx.range, fromShort: ctx.range.from.slice(0, 12), toShort: ctx.range.to.slice(0, 12) },
    commits: ctx.commits.map((c) => {
      const p = ctx.patches.find((x) => x.commit.sha === c.sha);
      return { sha: c.sha, short: c.sha.slice(0, 12), subject: c.subject, merge: c.parents.length > 1, empty: !p, brings: p?.brings ?? [] };
    }),
    patchCount: ctx.patches.length,
    patches: ctx.patches.map((p) => ({ name: p.name, subject: p.commit.subject })),
    percentPatch: ctx.percentPatch,
    trackingBranch: ctx.trackingBranch,
    branchUrl: ctx.branchUrl ?? '',
  };
  const subject = templates.render('tracking-cover.subject.hbs', view).replace(/\s+/g, ' ').trim();
  const text = templates.render('tracking-cover.text.hbs', view);
  let coverRaw: Buffer;
  try {
    coverRaw = await new MailComposer({ from: ctx.from, to: ctx.to, subject, text, messageId: `<${coverId}>`, date: ctx.date, disableUrlAccess: true, xMailer: 'patchline' }).compile().build();
  } catch (err) {
    throw new PatchlineError('EREPORT', `cannot build the review cover letter: ${(err as Error).message}`, { input: ctx.trackingBranch });
  }
  const mails: ComposedMail[] = [{ file: '00-cover.eml', from: ctx.from, to: ctx.to, subject, messageId: `<${coverId}>`, raw: coverRaw }];
  files.forEach((path, i) => {
    const id = reviewMessageId(ctx, i + 1);
    const raw = patchMail(readFileSync(path, 'utf8'), ctx.to, id, coverId);
    const subj = /^Subject: (.*)$/m.exec(raw.toString('utf8'))?.[1] ?? `patch ${i + 1}/${total}`;
    mails.push({ file: `${String(i + 1).padStart(2, '0')}-${join(path).split('/').pop()!.replace(/\.patch$/, '')}.eml`, from: ctx.from, to: ctx.to, subject: subj, messageId: `<${id}>`, raw });
  });
  return mails;
}
