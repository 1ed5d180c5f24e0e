package com.ecodrix.embeddedmongo;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Starts mongo-java-server on a loopback port and prints one line, {@code READY <connection string>}.
 *
 * <p>Arguments: {@code --port N} (0 picks a free port), {@code --backend memory|h2}, {@code --file PATH}
 * (h2 only), {@code --durability commit|fsync|deferred} (h2 only, default commit: see {@link
 * DurableH2Backend}). The process lives exactly as long as its standard input stays open: the Node parent keeps
 * the pipe, so when the parent exits — cleanly, by Ctrl-C or by SIGKILL — the pipe closes and this
 * process shuts the server down and exits. No orphaned Java processes.
 */
public final class EmbeddedMongo {

  /**
   * mongo-java-server 1.47 reports wire version 8 (MongoDB 4.0); the official Node driver 7.x refuses
   * servers below wire version 9. The server speaks OP_MSG like newer servers, so we advertise the wire
   * version of MongoDB 7.0 (21) and let the driver connect. Features the server lacks still fail loudly.
   */
  private static final MongoVersion ADVERTISED =
      new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
          return List.of(7, 0, 0);
        }

        @Override
        public String toVersionString() {
          return "7.0.0";
        }

        @Override
        public int getWireVersion() {
          return 21;
        }
      };

  private EmbeddedMongo() {}

  public static void main(String[] args) throws Exception {
    int port = 0;
    String backendName = "memory";
    String file = null;
    String durability = "commit";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--backend" -> backendName = args[++i];
        case "--file" -> file = args[++i];
        case "--durability" -> durability = args[++i];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }

    MongoBackend backend;
    if (backendName.equals("h2")) {
      if (file == null) throw new IllegalArgumentException("--backend h2 needs --file PATH");
      createPrivately(Path.of(file));
      backend = DurableH2Backend.open(file, DurableH2Backend.Durability.parse(durability));
    } else {
      backend = new MemoryBackend();
    }
    backend.version(ADVERTISED);

    MongoServer server = new MongoServer(backend);
    server.bind(new InetSocketAddress("127.0.0.1", port));
    InetSocketAddress address = server.getLocalAddress();

    Runnable stop =
        () -> {
          try {
            server.shutdownNow();
          } catch (RuntimeException ignored) {
            // already down
          }
          // H2Backend commits on close; shutdownNow closes the backend.
        };
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "embedded-mongo-shutdown"));

    System.out.println("READY mongodb://127.0.0.1:" + address.getPort());
    System.out.flush();

    waitForStdinToClose(System.in);
    System.exit(0);
  }

  /**
   * The file holds job payloads and results: readable by its owner only (H2 would create it with the
   * umask's 0644). An existing file is tightened too.
   */
  private static void createPrivately(Path file) throws IOException {
    try {
      if (Files.notExists(file)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } else {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      }
    } catch (UnsupportedOperationException notPosix) {
      // Windows: the directory's ACL decides.
    }
  }

  private static void waitForStdinToClose(InputStream in) {
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) >= 0) {
        // The parent writes nothing; any bytes are ignored. EOF means the parent is gone.
      }
    } catch (IOException ignored) {
      // a broken pipe means the parent is gone, too
    }
  }
}
