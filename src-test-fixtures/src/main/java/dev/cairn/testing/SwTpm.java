package dev.cairn.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * swtpm listening on 127.0.0.1:port (commands) and port+1 (control), as the swtpm TCTI expects
 * ({@code swtpm:host=127.0.0.1,port=P}); powered on and started up. Close it to stop it.
 */
public record SwTpm(Process process, int port) implements AutoCloseable {
public static SwTpm start(Path swtpm, Path state) throws IOException, InterruptedException {
        Files.createDirectories(state);
        IOException last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            int port = freePortPair();
            Process p = new ProcessBuilder(swtpm.toString(), "socket", "--tpm2",
                    "--server", "type=tcp,bindaddr=127.0.0.1,port=" + port,
                    "--ctrl", "type=tcp,bindaddr=127.0.0.1,port=" + (port + 1),
                    "--flags", "not-need-init,startup-clear", "--tpmstate", "dir=" + state)
                    .redirectErrorStream(true).redirectOutput(state.resolve("swtpm.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && p.isAlive()) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                    return new SwTpm(p, port);
                } catch (IOException e) {
                    last = e;
                    Thread.sleep(50);
                }
            }
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        throw new IOException("swtpm did not start; see " + state.resolve("swtpm.log") + ": "
                + Files.readString(state.resolve("swtpm.log"), StandardCharsets.UTF_8), last);
    }

    private static int freePortPair() throws IOException {
        for (int i = 0; i < 50; i++) {
            int p;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                p = s.getLocalPort();
            }
            if (p < 65535) {
                try (ServerSocket s2 = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                    return p;
                } catch (IOException busy) {
                    // try another pair
                }
            }
        }
        throw new IOException("no free pair of adjacent TCP ports on 127.0.0.1");
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** The TCTI string tpm2-tools take with {@code -T}/{@code --tcti}. */
    public String tcti() {
        return "swtpm:host=127.0.0.1,port=" + port;
    }
}
