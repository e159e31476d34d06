"""What the throwaway database servers of the tests share: a child process to stop and
start again (the database-outage tests)."""

import signal
import subprocess


class ChildServer:
    """A server run as a child process by `_launch()`, which sets `_proc`."""

    _proc = None
    stop_signal = signal.SIGTERM  # the signal of the server's fast, clean shutdown

    def _launch(self):
        raise NotImplementedError

    def stop(self):
        if self._proc is not None:
            self._proc.send_signal(self.stop_signal)
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def restart(self):
        self.stop()
        self._launch()

    def kill(self):
        """SIGKILL: the server stops at once, mid-transaction (the fault tests)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def start_again(self):
        """Start the killed server on the same data."""
        self._launch()
