// Buildpack URLs: what each user may name.
import test from 'ava';
import { parseBuildpackUrl, checkBuildpackUrls } from '../../src/buildpack-url.js';

test('buildpack URLs: https and http for all, file:// for admins, #ref picks a branch; junk refused', (t) => {
  t.deepEqual(parseBuildpackUrl('https://example.com/bp.git', false), { repo: 'https://example.com/bp.git', ref: undefined });
  t.deepEqual(parseBuildpackUrl('https://example.com/bp.git#v2.1', false), { repo: 'https://example.com/bp.git', ref: 'v2.1' });
  t.deepEqual(parseBuildpackUrl('file:///srv/bp', true), { repo: 'file:///srv/bp', ref: undefined });
  t.throws(() => parseBuildpackUrl('file:///srv/bp', false), { message: /admins only/ });
  t.deepEqual(parseBuildpackUrl('solum-buildpack:my-bp', false), { repo: '', ref: undefined, registered: 'my-bp' });
  t.throws(() => parseBuildpackUrl('solum-buildpack:../x', false), { message: /invalid registered buildpack name/ });
  t.throws(() => parseBuildpackUrl('ssh://host/bp', true), { message: /https:\/\/, http:\/\/ or file:\/\/ git URLs or solum-buildpack:NAME/ });
  t.throws(() => parseBuildpackUrl('--upload-pack=evil', true));
  t.throws(() => parseBuildpackUrl('https://x/bp#--evil', true), { message: /invalid buildpack ref/ });
  t.throws(() => parseBuildpackUrl('https://x/ b', true), { message: /without spaces/ });
  t.throws(() => checkBuildpackUrls(Array.from({ length: 9 }, () => 'https://x/bp'), true), { message: /at most 8/ });
});
