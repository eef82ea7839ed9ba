"""The fault campaign's parts: faulty device wrappers and the plant's watch, the in-process
scenarios on a virtual clock, malformed OCPP frames over a real websocket, and the controller
killed with ``kill -9`` in a child process on the real protocol peers (see ``bench/faults.py``)."""
