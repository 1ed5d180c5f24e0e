package com.ecodrix.embeddedmongo;

import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.h2.mvstore.MVStore;

/**
 * mongo-java-server's H2 backend with a write acknowledged only once it is in the file.
 *
 * <p>Out of the box the backend opens its MVStore with H2's defaults: a background thread commits
 * about once a second, at whatever point the writers have reached. A process killed with SIGKILL
 * loses up to a second of acknowledged writes, and a background commit can land between a
 * document's write and its index entries' writes, so the file can hold a document without its
 * unique-index entry (deletes then fail with "Found no position … in H2UniqueIndex").
 *
 * <p>Here the store never commits on its own (auto-commit off, no memory-triggered commit). Every
 * command that may write runs holding a shared lock; when it is done, and before its reply goes
 * out, the store is committed under the exclusive lock, i.e. at a point where no command is half
 * way through. Concurrent writers share commits (a writer whose changes a neighbour's commit already
 * stored finds nothing left to commit). A commit writes a new chunk with {@code write()}: the data
 * survives the death of this process. With {@link Durability#FSYNC} each commit is also
 * fsync'ed, so it survives an operating-system crash or power loss, at a price (see the README).
 */
final class DurableH2Backend extends H2Backend {

  enum Durability {
    /** Commit before acknowledging (survives SIGKILL of this process). */
    COMMIT,
    /** Commit and fsync before acknowledging (survives an OS crash too). */
    FSYNC,
    /** H2's default: a background commit about once a second (kept to measure what COMMIT costs). */
    DEFERRED;

    static Durability parse(String value) {
      return valueOf(value.toUpperCase(Locale.ROOT));
    }
  }

  /** Commands that never write: they skip the lock and the commit. Anything else is treated as a write. */
  private static final Set<String> READ_COMMANDS =
      Set.of(
          "find",
          "getmore",
          "count",
          "distinct",
          "listcollections",
          "listindexes",
          "listdatabases",
          "ismaster",
          "hello",
          "ping",
          "buildinfo",
          "whatsmyuri",
          "serverstatus",
          "dbstats",
          "collstats",
          "hostinfo",
          "getlog",
          "getcmdlineopts",
          "getparameter",
          "getfreemonitoringstatus",
          "connectionstatus",
          "killcursors",
          "endsessions",
          "currentop",
          "explain");

  private final MVStore store;
  private final Durability durability;
  /** Shared: a command that may write is running. Exclusive: the store is being committed. */
  private final ReentrantReadWriteLock boundary = new ReentrantReadWriteLock();
  private final ScheduledExecutorService housekeeping;

  private DurableH2Backend(MVStore store, Durability durability) {
    super(store);
    this.store = store;
    this.durability = durability;
    if (durability == Durability.DEFERRED) {
      housekeeping = null;
      return;
    }
    // With auto-commit off, H2's background thread does not run, and neither does its compaction of
    // sparse chunks: without this the file would only grow. Compaction commits, so it takes the
    // exclusive lock like any commit.
    housekeeping =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "embedded-mongo-compaction");
              thread.setDaemon(true);
              return thread;
            });
    housekeeping.scheduleWithFixedDelay(this::compact, 10, 10, TimeUnit.SECONDS);
  }

  static DurableH2Backend open(String file, Durability durability) {
    MVStore.Builder builder = new MVStore.Builder().fileName(file);
    if (durability != Durability.DEFERRED) {
      // No background commits and no commits triggered by unsaved memory: only commitAfterWrite()
      // commits, between commands.
      builder.autoCommitDisabled().autoCommitBufferSize(0);
    }
    return new DurableH2Backend(builder.open(), durability);
  }

  @Override
  public Document handleCommand(Channel channel, String database, String command, Document query) {
    if (durability == Durability.DEFERRED || isRead(command, query)) {
      return super.handleCommand(channel, database, command, query);
    }
    // Nested calls (a command the backend dispatches to another) commit once, in the outermost call:
    // taking the exclusive lock while this thread holds the shared one would deadlock.
    boolean outermost = boundary.getReadHoldCount() == 0;
    boundary.readLock().lock();
    try {
      return super.handleCommand(channel, database, command, query);
    } finally {
      boundary.readLock().unlock();
      // Also after a failed command: an ordered insert that stops at a duplicate key has written,
      // and reported, the documents before it.
      if (outermost) commitAfterWrite();
    }
  }

  private static boolean isRead(String command, Document query) {
    String name = command.toLowerCase(Locale.ROOT);
    if (name.equals("aggregate")) return !writesOutput(query.get("pipeline"));
    return READ_COMMANDS.contains(name);
  }

  private static boolean writesOutput(Object pipeline) {
    if (!(pipeline instanceof List<?> stages)) return false;
    for (Object stage : stages) {
      if (stage instanceof Document document
          && (document.containsKey("$out") || document.containsKey("$merge"))) {
        return true;
      }
    }
    return false;
  }

  private void commitAfterWrite() {
    boundary.writeLock().lock();
    try {
      if (store.isClosed() || !store.hasUnsavedChanges()) return;
      store.commit();
      if (durability == Durability.FSYNC) store.sync();
    } finally {
      boundary.writeLock().unlock();
    }
  }

  private void compact() {
    boundary.writeLock().lock();
    try {
      if (store.isClosed()) return;
      // Rewrite live pages out of chunks less than 80 % full, at most 4 MB per round, then commit.
      if (store.compact(80, 4 * 1024 * 1024)) {
        store.commit();
        if (durability == Durability.FSYNC) store.sync();
      }
    } catch (RuntimeException e) {
      System.err.println("embedded MongoDB: compaction failed: " + e);
    } finally {
      boundary.writeLock().unlock();
    }
  }

  @Override
  public void close() {
    if (housekeeping != null) housekeeping.shutdownNow();
    boundary.writeLock().lock();
    try {
      super.close();
    } finally {
      boundary.writeLock().unlock();
    }
  }
}
