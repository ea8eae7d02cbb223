package dev.cairn.cli.build;

import dev.cairn.uki.initrd.InitrdWriter;
import java.io.IOException;
import java.nio.file.Path;

/** Host binaries and kernel modules a spec asks to add to the initramfs. */
final class InitrdContent {
    private InitrdContent() {
    }

    static void addHostFiles(InitrdWriter w, BuildSpec.Initramfs in, Path kernel) throws IOException {
        if (!in.binaries().isEmpty() || !in.modules().isEmpty()) {
            throw new IllegalArgumentException("kernel.initramfs.binaries/modules: not available in this build of cairn");
        }
    }
}
