// The SSH keys page (#/keys): the signed-in user's keys with fingerprints; add one, remove one.
import { isAbort, messageOf, solum, type SshKey } from './api.js';
import { h, hidden, on, table, time } from './dom.js';
import { empty, pageHeading, section, type PageContext } from './page.js';

export async function keysPage(ctx: PageContext): Promise<Node[]> {
  ctx.setTitle('SSH keys');
  const user = ctx.user.name;
  const list = h('div', {});

  const load = async (): Promise<void> => {
    const keys = await solum.keys(user, ctx.signal);
    list.replaceChildren(keys.length === 0 ? empty('No keys yet: add one below to push over SSH.') : keysTable(keys));
  };

  const remove = async (name: string, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    ctx.clearMessages();
    try {
      await solum.removeKey(user, name, ctx.signal);
      ctx.notify(`Removed key ${name}.`);
      await load();
      document.getElementById('keys-title')?.focus();
    } catch (err) {
      if (isAbort(err)) return;
      button.disabled = false;
      ctx.fail(`Removing key ${name} failed: ${messageOf(err)}`);
    }
  };

  const keysTable = (keys: readonly SshKey[]): HTMLTableElement =>
    table(
      `SSH keys of ${user}`,
      ['Name', 'Type', 'Fingerprint', 'Added', 'Last used', 'Actions'],
      keys.map((k) => ({
        key: k.name,
        cells: [
          h('strong', {}, k.name),
          k.type,
          h('code', { class: 'fingerprint' }, k.fingerprint),
          time(k.createdAt),
          k.lastUsedAt ? time(k.lastUsedAt) : h('span', { class: 'muted' }, 'never'),
          on(h('button', { type: 'button', class: 'danger' }, 'Remove', hidden(` key ${k.name}`)), 'click', (ev) => {
            void remove(k.name, ev.currentTarget as HTMLButtonElement);
          }),
        ],
      })),
    );

  const nameInput = h('input', { id: 'key-name', name: 'name', type: 'text', required: true, maxlength: 64, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'key-name-hint' });
  const keyInput = h('textarea', { id: 'key-public', name: 'publicKey', rows: 4, required: true, spellcheck: 'false', 'aria-describedby': 'key-public-hint', placeholder: 'ssh-ed25519 AAAAC3Nza… you@laptop' });
  const formError = h('p', { class: 'form-error', id: 'key-error', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Add key');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'add-key-title', novalidate: true },
    h('h2', { id: 'add-key-title' }, 'Add a key'),
    h('p', {}, h('label', { for: 'key-name' }, 'Name'), nameInput, h('span', { class: 'hint', id: 'key-name-hint' }, 'To tell your keys apart, e.g. laptop.')),
    h(
      'p',
      {},
      h('label', { for: 'key-public' }, 'Public key'),
      keyInput,
      h('span', { class: 'hint', id: 'key-public-hint' }, 'One line, as in ', h('code', {}, '~/.ssh/id_ed25519.pub'), ': ed25519, ecdsa or rsa (2048 bits or more).'),
    ),
    formError,
    h('p', {}, submit),
  );
  on(form, 'submit', async (ev) => {
    ev.preventDefault();
    ctx.clearMessages();
    formError.textContent = '';
    const name = nameInput.value.trim();
    const publicKey = keyInput.value.trim();
    const missing = !name ? nameInput : !publicKey ? keyInput : null;
    if (missing) {
      formError.textContent = missing === nameInput ? 'Give the key a name.' : 'Paste the public key.';
      missing.setAttribute('aria-invalid', 'true');
      missing.focus();
      return;
    }
    nameInput.removeAttribute('aria-invalid');
    keyInput.removeAttribute('aria-invalid');
    submit.disabled = true;
    try {
      const key = await solum.addKey(user, { name, publicKey }, ctx.signal);
      form.reset();
      ctx.notify(`Added key ${key.name} (${key.fingerprint}).`);
      await load();
    } catch (err) {
      if (isAbort(err)) return;
      formError.textContent = messageOf(err);
    } finally {
      submit.disabled = false;
    }
  });

  await load();
  return [pageHeading('SSH keys'), h('p', { class: 'lead' }, 'Keys that may push and run commands over SSH as ', h('strong', {}, user), '.'), section('keys', 'Your keys', list), form];
}
