// JS library for the Node build: Emscripten 3.1.6's NODEFS has no fsync, and its fsync/fdatasync return without
// reaching the disk. These replacements sync NODEFS files for real, so a synced write is as durable as natively.
mergeInto(LibraryManager.library, {
  fd_sync__deps: ['$SYSCALLS', '$FS'],
  fd_sync: function (fd) {
    try {
      var stream = SYSCALLS.getStreamFromFD(fd);
      if (stream.nfd !== undefined && stream.nfd !== null) require('fs').fsyncSync(stream.nfd);
      return 0;
    } catch (e) {
      if (e instanceof FS.ErrnoError) return e.errno;
      return 29;  // EIO
    }
  },
  __syscall_fdatasync__deps: ['$SYSCALLS', '$FS'],
  __syscall_fdatasync: function (fd) {
    try {
      var stream = SYSCALLS.getStreamFromFD(fd);
      if (stream.nfd !== undefined && stream.nfd !== null) require('fs').fdatasyncSync(stream.nfd);
      return 0;
    } catch (e) {
      if (e instanceof FS.ErrnoError) return -e.errno;
      return -29;  // EIO
    }
  },
});
