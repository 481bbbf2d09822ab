from .errors import BackendUnavailable as BackendUnavailable
from .errors import ConfigurationError as ConfigurationError
from .errors import HandlerError as HandlerError
from .errors import RealtimeError as RealtimeError
from .extension import Realtime as Realtime
from .page_socket import PageSocket as PageSocket

__all__ = [
    "BackendUnavailable",
    "ConfigurationError",
    "HandlerError",
    "PageSocket",
    "Realtime",
    "RealtimeError",
]
