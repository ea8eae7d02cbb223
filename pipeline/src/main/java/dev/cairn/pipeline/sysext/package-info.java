/**
 * systemd system and configuration extension images (sysext, confext): {@link
 * dev.cairn.pipeline.sysext.SysextBuilder#build} turns a {@link dev.cairn.pipeline.sysext.SysextRequest} (a tree, an
 * {@link dev.cairn.pipeline.sysext.ExtensionRelease} and a key) into a signed, dm-verity protected image and returns a
 * {@link dev.cairn.pipeline.sysext.SysextResult}. The face is {@code cairn sysext create}; docs/sysext.md describes
 * what is written and how systemd 252 and 257 read it.
 */
package dev.cairn.pipeline.sysext;
