package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The batch runner on its own: input order whatever the threads, --fail-fast, discarding, exit codes. */
class FileBatchTest {
    /** Files named by number; a file whose number is in {@code bad} fails in prepare, later ones take less time. */
    private static final class Recorder implements FileBatch.Task<String> {
        final List<String> committed = Collections.synchronizedList(new ArrayList<>());
        final Set<String> prepared = ConcurrentHashMap.newKeySet();
        final Set<String> closed = ConcurrentHashMap.newKeySet();
        final Set<String> flushed = ConcurrentHashMap.newKeySet();
        final Set<Integer> bad;

        Recorder(Set<Integer> bad) {
            this.bad = bad;
        }

        @Override
        public FileBatch.Pending<String> prepare(Path file) throws Exception {
            int n = Integer.parseInt(file.toString());
            Thread.sleep(Math.max(0, 20 - n)); // the first files take longest: later ones finish first on other threads
            if (bad.contains(n)) {
                throw new NoSuchFileException(file.toString());
            }
            prepared.add(file.toString());
            return new FileBatch.Pending<>() {
                @Override
                public void flush() {
                    flushed.add(file.toString());
                }

                @Override
                public String commit() {
                    committed.add(file.toString());
                    return "ok " + file;
                }

                @Override
                public void close() throws IOException {
                    closed.add(file.toString());
                }
            };
        }
    }

    private static List<Path> files(int n) {
        List<Path> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(Path.of(Integer.toString(i)));
        }
        return l;
    }

    @Test
    void commitsInInputOrderOnAnyNumberOfThreads() {
        for (int threads : new int[] {1, 2, 5}) {
            Recorder r = new Recorder(Set.of(3, 7));
            StringWriter err = new StringWriter();
            FileBatch.Result<String> res = FileBatch.run(files(12), false, threads, new PrintWriter(err, true), r);
            assertThat(r.committed).as("threads " + threads).containsExactly("0", "1", "2", "4", "5", "6", "8", "9", "10", "11");
            assertThat(r.flushed).hasSize(10);
            assertThat(r.closed).containsExactlyInAnyOrderElementsOf(r.prepared); // every prepared file closed, committed or not
            assertThat(err.toString()).isEqualTo("cairn: 3: no such file\ncairn: 7: no such file\n");
            assertThat(res.outcomes()).hasSize(12);
            assertThat(res.outcomes().get(4).result()).isEqualTo("ok 4");
            assertThat(res.exitCode()).isEqualTo(3);
            assertThat(res.summary("signed", "things")).isEqualTo("signed 10 of 12 things; 2 failed");
        }
    }

    @Test
    void failFastCommitsNothingAfterTheFirstFailureAndDiscardsWhatWasPrepared() {
        for (int threads : new int[] {1, 4}) {
            Recorder r = new Recorder(Set.of(2));
            FileBatch.Result<String> res = FileBatch.run(files(12), true, threads, new PrintWriter(new StringWriter()), r);
            assertThat(r.committed).containsExactly("0", "1");
            assertThat(r.closed).containsExactlyInAnyOrderElementsOf(r.prepared);
            assertThat(res.outcomes()).hasSize(3);
            assertThat(res.skipped()).isEqualTo(9);
            assertThat(res.summary("signed", "things")).isEqualTo("signed 2 of 12 things; 1 failed, 9 not attempted (--fail-fast)");
            if (threads == 1) {
                assertThat(r.prepared).containsExactlyInAnyOrder("0", "1"); // sequential: nothing is prepared ahead
            }
        }
    }

    @Test
    void exitCodeIsTheFirstFailuresAndAllGoodIsZero() {
        FileBatch.Task<String> task = f -> switch (f.toString()) {
            case "sig" -> throw new dev.cairn.signing.SigningException("already signed");
            case "missing" -> throw new NoSuchFileException("missing");
            default -> FileBatch.Pending.done("fine");
        };
        PrintWriter err = new PrintWriter(new StringWriter());
        assertThat(FileBatch.run(List.of(Path.of("a"), Path.of("sig"), Path.of("missing")), false, 2, err, task).exitCode()).isEqualTo(4);
        assertThat(FileBatch.run(List.of(Path.of("missing"), Path.of("sig")), false, 2, err, task).exitCode()).isEqualTo(3);
        FileBatch.Result<String> ok = FileBatch.run(List.of(Path.of("a"), Path.of("b")), false, 2, err, task);
        assertThat(ok.exitCode()).isZero();
        assertThat(ok.summary("checked", "files")).isEqualTo("checked 2 of 2 files");
    }

    @Test
    void messagesNameTheFileOnce() {
        assertThat(FileBatch.named(Path.of("/x/a.ko"), "/x/a.ko: no such file")).isEqualTo("/x/a.ko: no such file");
        assertThat(FileBatch.named(Path.of("/x/a.ko"), "the module already has an appended signature"))
                .isEqualTo("/x/a.ko: the module already has an appended signature");
    }
}
