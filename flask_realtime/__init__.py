from .errors import BackendUnavailable as BackendUnavailable
from .errors import ConfigurationError as ConfigurationError
from .errors import RealtimeError as RealtimeError
from .extension import Realtime as Realtime
from .page_socket import PageSocket as PageSocket

__all__ = [
    "BackendUnavailable",
    "ConfigurationError",
    "PageSocket",
    "Realtime",
    "RealtimeError",
]
