package dev.cairn.pipeline;

import static dev.cairn.squashfs.EntryAttributes.S_IFDIR;
import static dev.cairn.squashfs.EntryAttributes.S_IFLNK;
import static dev.cairn.squashfs.EntryAttributes.S_IFREG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.squashfs.EntryGate.Verdict;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each {@code rootfs.clean} clean-up's verdict on the paths docs/build-spec.md names, and on their neighbours. */
class RootfsCleanTest {
    private static RootfsClean all() {
        return new RootfsClean(Arrays.asList(BuildSpec.Cleanup.values()));
    }

    @Test
    void eachCleanUpMatchesExactlyWhatTheDocsSay() {
        RootfsClean c = all();
        Object[][] cases = {
            {"etc/machine-id", S_IFREG, Verdict.EMPTY},
            {"var/lib/dbus/machine-id", S_IFLNK, Verdict.SKIP},
            {"var/lib/dbus", S_IFDIR, Verdict.ADD},
            {"etc/ssh/ssh_host_ed25519_key", S_IFREG, Verdict.SKIP},
            {"etc/ssh/ssh_host_ed25519_key.pub", S_IFREG, Verdict.SKIP},
            {"etc/ssh/ssh_host_ed25519_key.bak", S_IFREG, Verdict.ADD},
            {"etc/ssh/sshd_config", S_IFREG, Verdict.ADD},
            {"etc/ssh/ssh_config.d/ssh_host_x_key", S_IFREG, Verdict.ADD},
            {"var/log/syslog", S_IFREG, Verdict.SKIP},
            {"var/log/journal/abc/system.journal", S_IFREG, Verdict.SKIP},
            {"var/log/journal", S_IFDIR, Verdict.ADD},
            {"var/log/README", S_IFLNK, Verdict.ADD},
            {"var/logs/x", S_IFREG, Verdict.ADD},
            {"var/cache/apt/pkgcache.bin", S_IFREG, Verdict.SKIP},
            {"var/cache/apt/apt.conf", S_IFREG, Verdict.ADD},
            {"var/cache/apt/archives/a_1.0_amd64.deb", S_IFREG, Verdict.SKIP},
            {"var/cache/apt/archives/lock", S_IFREG, Verdict.ADD},
            {"var/cache/apt/archives/partial", S_IFDIR, Verdict.ADD},
            {"var/cache/apt/archives/partial/b.deb", S_IFREG, Verdict.SKIP},
            {"var/lib/apt/lists/lock", S_IFREG, Verdict.ADD},
            {"var/lib/apt/lists/lockfile", S_IFREG, Verdict.SKIP},
            {"var/lib/apt/lists/partial", S_IFDIR, Verdict.ADD},
            {"var/lib/apt/lists/partial/x", S_IFREG, Verdict.SKIP},
            {"var/lib/apt/lists/auxfiles", S_IFDIR, Verdict.SKIP},
            {"var/lib/apt/lists/auxfiles2/y", S_IFREG, Verdict.SKIP}, // a tarball without the directory's own entry
            {"var/lib/apt/lists", S_IFDIR, Verdict.ADD},
            {"var/lib/systemd/random-seed", S_IFREG, Verdict.SKIP},
            {"var/lib/systemd/random-seed", S_IFDIR, Verdict.ADD},
            {"var/cache/ldconfig/aux-cache", S_IFREG, Verdict.SKIP},
            {"etc/ld.so.cache", S_IFREG, Verdict.ADD},
        };
        for (Object[] k : cases) {
            assertThat(c.check((String) k[0], (Integer) k[1])).as("%s", k[0]).isEqualTo(k[2]);
        }
        assertThat(new RootfsClean(List.of()).check("etc/machine-id", S_IFREG)).isEqualTo(Verdict.ADD);
        assertThat(new RootfsClean(List.of(BuildSpec.Cleanup.LOGS)).check("etc/machine-id", S_IFREG)).isEqualTo(Verdict.ADD);
    }

    @Test
    void aMachineIdThatIsNotAFileIsLeftWithAWarning() {
        RootfsClean c = all();
        assertThat(c.check("etc/machine-id", S_IFLNK)).isEqualTo(Verdict.ADD);
        assertThat(c.warnings()).containsExactly("clean-up machine-id: /etc/machine-id is not a regular file, left as it is");
    }
}
