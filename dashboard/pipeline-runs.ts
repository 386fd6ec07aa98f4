// Pipeline runs drawn as their stages in order (state per stage, the gate a run waits at), with
// Approve and Reject on that gate for the users it names.
import type { PipelineRun, PipelineStage, StageSpec, User } from './api.js';
import { h, hidden, on, shortCommit, status, time } from './dom.js';

/** Runs shown (newest first); older ones stay in `solum pipelines:runs`. */
export const RUNS_SHOWN = 10;

const ORDER = ['read', 'write', 'admin'];

/** Whether the user may decide this gate: one of its users, or at least its role (as the server decides). Pure. */
export function mayDecide(spec: StageSpec, user: User, role: string | null): boolean {
  if (spec.kind !== 'approval') return false;
  if (spec.users.includes(user.name)) return true;
  return spec.role !== null && role !== null && ORDER.indexOf(role) >= ORDER.indexOf(spec.role);
}

/** Who may decide a gate, in words. Pure. */
export function whoDecides(spec: StageSpec): string {
  if (spec.kind === 'external') return 'a signed callback from CI';
  if (spec.kind !== 'approval') return '';
  const who = [...(spec.role ? [`an app ${spec.role}`] : []), ...spec.users.map((u) => `user ${u}`)];
  return `approval by ${who.join(' or ')}`;
}

/** The stage a run waits at, if it waits. Pure. */
export const currentGate = (r: PipelineRun): PipelineStage | undefined => (r.status === 'waiting' ? r.stages.find((s) => s.status !== 'succeeded' && s.status !== 'skipped') : undefined);

export interface RunsOptions {
  readonly runs: readonly PipelineRun[];
  readonly user: User;
  readonly role: string | null;
  decide(run: PipelineRun, approve: boolean, button: HTMLButtonElement): void;
}

export function pipelineRuns(o: RunsOptions): HTMLElement[] {
  const shown = o.runs.slice(0, RUNS_SHOWN);
  const items = shown.map((run) => {
    const gate = currentGate(run);
    const stages = run.stages.map((stage) => {
      const isGate = stage === gate;
      const decide = isGate && mayDecide(stage.spec, o.user, o.role);
      return h(
        'li',
        { class: `stage${isGate ? ' current' : ''}`, 'data-stage': stage.name, 'data-status': stage.status, ...(isGate ? { 'aria-current': 'step' } : {}) },
        h('span', { class: 'stage-name' }, stage.name),
        // For screen readers ("build: succeeded"); the card's layout already separates the two.
        hidden(': '),
        status(stage.status),
        h('span', { class: 'muted small stage-kind' }, ` ${stage.kind}`),
        stage.decidedBy ? h('span', { class: 'muted small' }, ` by ${stage.decidedBy}`) : null,
        isGate ? h('span', { class: 'gate-who small' }, `Waits for ${whoDecides(stage.spec)}.`) : null,
        decide
          ? h(
              'span',
              { class: 'gate-buttons' },
              on(h('button', { type: 'button', class: 'small', id: `approve-run-${run.id}` }, 'Approve', hidden(` run #${run.id}`)), 'click', (ev) => {
                o.decide(run, true, ev.currentTarget as HTMLButtonElement);
              }),
              ' ',
              on(h('button', { type: 'button', class: 'danger small', id: `reject-run-${run.id}` }, 'Reject', hidden(` run #${run.id}`)), 'click', (ev) => {
                o.decide(run, false, ev.currentTarget as HTMLButtonElement);
              }),
            )
          : null,
      );
    });
    return h(
      'li',
      { class: 'run', 'data-key': `run ${run.id}`, 'data-status': run.status },
      h('p', { class: 'run-head' }, h('strong', {}, `Run #${run.id}`), ' ', status(run.status), ' ', h('code', { title: run.commit }, shortCommit(run.commit)), ' ', h('span', { class: 'muted small' }, time(run.createdAt))),
      h('ol', { class: 'stages', 'aria-label': `Stages of run #${run.id}` }, ...stages),
      run.error ? h('p', { class: 'inline-error small' }, run.error) : null,
      gate && !mayDecide(gate.spec, o.user, o.role) ? h('p', { class: 'hint' }, `You cannot decide this gate: it needs ${whoDecides(gate.spec)}.`) : null,
    );
  });
  const more = o.runs.length > shown.length ? h('p', { class: 'hint' }, `${o.runs.length - shown.length} older runs: `, h('code', {}, 'solum pipelines:runs'), '.') : null;
  return [h('ol', { class: 'runs', 'aria-label': 'Pipeline runs, newest first' }, ...items), ...(more ? [more] : [])];
}
