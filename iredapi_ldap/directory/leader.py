"""Which server of LDAP_URI a worker reads and writes through: one choice for all its
threads.

Replicating providers (multi-provider) must take writes on one provider only: two writes of
the same entry on two providers are merged by "last writer wins" on whole entries, so limits
and counters break (OpenLDAP's admin guide recommends one writable provider, "mirror mode").
Every host lists the providers in the same order; each worker uses the first that answers,
and all its threads follow as soon as one of them finds it down.

No fail-back yet: a worker stays on the provider it moved to until that one is found down
(then the next, wrapping round to the first) or the worker restarts.
"""

import logging
import threading
from collections.abc import Sequence

log = logging.getLogger(__name__)


class Leader:
    """The provider in use, shared by the threads of one worker."""

    def __init__(self, uris: Sequence[str]) -> None:
        self._uris = tuple(uris)
        self._index = 0
        self._lock = threading.Lock()

    @property
    def current(self) -> str:
        """The URI every thread reads and writes through."""
        return self._uris[self._index]

    def found_down(self, uri: str) -> None:
        """A thread could not use `uri` (connect or bind failed or timed out): when it is the
        current one, every thread moves to the next server of LDAP_URI (after the last: the
        first). A thread that reports a server the others have already left changes
        nothing, so threads that find the same server down at once move only once."""
        with self._lock:
            if self._uris[self._index] != uri or len(self._uris) == 1:
                return
            self._index = (self._index + 1) % len(self._uris)
            log.warning("directory server %s is down: reads and writes go to %s now",
                        uri, self._uris[self._index])
