// The build page (#/builds/ID): status, DU ID with a copy button, and the log followed live over SSE.
import { ApiError, isAbort, messageOf, solum, type Build } from './api.js';
import { duration, h, hidden, on, shortCommit, status, time } from './dom.js';
import { facts, pageHeading, section, sleep, type PageContext } from './page.js';
import { readEventStream } from './sse.js';

const finished = (b: Build): boolean => b.status !== 'queued' && b.status !== 'running';

export function buildPage(id: number): (ctx: PageContext) => Promise<Node[]> {
  return async (ctx) => {
    const first = await solum.build(id, ctx.signal);
    ctx.setTitle(`Build #${first.number} of ${first.app}`);

    const summaryBox = h('div', {});
    let shown = first;
    const showSummary = (b: Build): void => {
      shown = b;
      summaryBox.replaceChildren(summary(b, ctx));
    };
    showSummary(first);
    // The stream has no "started" event: the first line of a queued build means it runs now.
    let refreshing = false;
    const refreshIfQueued = async (): Promise<void> => {
      if (shown.status !== 'queued' || refreshing) return;
      refreshing = true;
      const before = shown;
      try {
        const now = await solum.build(id, ctx.signal);
        // Unless the end event came meanwhile.
        if (shown === before) showSummary(now);
      } catch {
        // The end event brings the final state anyway.
      } finally {
        refreshing = false;
      }
    };

    const log = h('pre', { class: 'log', id: 'build-log', tabindex: 0, role: 'log', 'aria-labelledby': 'log-title', 'aria-describedby': 'log-state' });
    const text = document.createTextNode('');
    log.append(text);
    const state = h('p', { class: 'log-state', id: 'log-state' }, 'Connecting…');
    let lines = 0;
    let pending = '';
    let frame = 0;
    const flush = (): void => {
      frame = 0;
      if (!pending) return;
      // Keep following the end of the log unless the reader scrolled up.
      const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 8;
      text.appendData(pending);
      pending = '';
      if (atEnd) log.scrollTop = log.scrollHeight;
    };

    void followLog(id, ctx.signal, {
      line: (line) => {
        lines++;
        pending += `${line}\n`;
        if (!frame) frame = requestAnimationFrame(flush);
        void refreshIfQueued();
      },
      state: (s) => {
        state.textContent = s;
      },
      end: (b) => {
        cancelAnimationFrame(frame);
        flush();
        showSummary(b);
        state.textContent = `Complete: ${lines} line${lines === 1 ? '' : 's'}.`;
        if (finished(first)) return;
        ctx.notify(`Build #${b.number} ${b.status}.`);
      },
      fail: (message) => {
        state.textContent = `The log stopped: ${message}`;
        ctx.fail(message);
      },
    });

    return [
      pageHeading(`Build #${first.number} of `, h('a', { href: `#/apps/${encodeURIComponent(first.app)}` }, first.app)),
      summaryBox,
      section('log', 'Log', state, log),
    ];
  };
}

function summary(b: Build, ctx: PageContext): HTMLElement {
  return facts(
    [
      ['Status', h('span', { id: 'build-status', 'data-status': b.status }, status(b.status))],
      ['Branch', h('code', {}, b.ref.replace(/^refs\/heads\//, ''))],
      ['Commit', h('code', { title: b.commit }, shortCommit(b.commit))],
      ['Language pack', b.languagePack ?? (finished(b) ? '—' : 'not picked yet')],
      ['DU ID', b.duId ? duId(b.duId, ctx) : h('span', { class: 'muted' }, finished(b) ? 'none' : 'when the build succeeds')],
      ['Image', b.duImage ? h('code', {}, b.duImage) : null],
      ['Queued', time(b.createdAt)],
      ['Started', time(b.startedAt)],
      ['Finished', finished(b) ? time(b.finishedAt) : h('span', { class: 'muted' }, 'not yet')],
      ['Took', finished(b) ? duration(b.startedAt, b.finishedAt) : null],
      ['Exit code', b.exitCode === null ? null : String(b.exitCode)],
      ['Error', b.error ? h('span', { class: 'inline-error' }, b.error) : null],
    ],
    { 'aria-label': 'Build summary' },
  );
}

function duId(id: string, ctx: PageContext): HTMLElement {
  const value = h('code', { id: 'du-id', class: 'du-id' }, id);
  const button = on(h('button', { type: 'button', class: 'secondary small' }, 'Copy', hidden(' DU ID')), 'click', async () => {
    if (await copy(id)) {
      ctx.notify('DU ID copied to the clipboard.');
      return;
    }
    // No clipboard (e.g. plain HTTP to another host): select the ID so Ctrl+C / ⌘C copies it.
    const range = document.createRange();
    range.selectNodeContents(value);
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    ctx.notify('The browser does not allow copying here: the DU ID is selected, press Ctrl+C (⌘C) to copy it.');
  });
  return h('span', { class: 'copyable' }, value, ' ', button);
}

async function copy(text: string): Promise<boolean> {
  if (!window.isSecureContext || !('clipboard' in navigator)) return false;
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

interface FollowHandlers {
  line(line: string): void;
  state(text: string): void;
  end(build: Build): void;
  fail(message: string): void;
}

/**
 * Follows `GET /v1/builds/:id/log?follow=1` (Server-Sent Events: `line` events numbered by `id`,
 * then `end` with the build). Reconnects with `Last-Event-ID` when the stream drops before `end`,
 * and skips lines it has already shown.
 */
async function followLog(id: number, signal: AbortSignal, on: FollowHandlers): Promise<void> {
  let last = 0;
  let failures = 0;
  // A function, so the checks below are not narrowed away by the loop's condition.
  const stopped = (): boolean => signal.aborted;
  while (!stopped()) {
    try {
      const res = await solum.followLog(id, last, signal);
      if (!res.body || !(res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) {
        // Not a live stream: show the stored log and the build as it is now.
        for (const line of (await res.text()).split('\n').slice(0, -1)) on.line(line);
        on.end(await solum.build(id, signal));
        return;
      }
      on.state('Following the log live…');
      for await (const ev of readEventStream(res.body)) {
        if (stopped()) return;
        if (ev.event === 'line') {
          const n = Number(ev.id);
          if (Number.isInteger(n) && n > 0) {
            if (n <= last) continue;
            last = n;
          }
          failures = 0;
          on.line(ev.data);
        } else if (ev.event === 'end') {
          on.end(JSON.parse(ev.data) as Build);
          return;
        }
      }
    } catch (err) {
      if (isAbort(err) || stopped()) return;
      // The API said no (gone, forbidden): retrying will not help.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
        on.fail(messageOf(err));
        return;
      }
    }
    failures++;
    const wait = Math.min(1000 * 2 ** (failures - 1), 15_000);
    on.state(`Connection lost; reconnecting in ${Math.round(wait / 1000)} s…`);
    await sleep(wait, signal);
  }
}
