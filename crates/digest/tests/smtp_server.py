"""A real SMTP server for the digest tests and bench, on aiosmtpd.

Saves every accepted message to DIR as NAME.eml, plus NAME.json with what Python's
own email parser reads from it (recipients, headers, MIME parts), so the Rust tests
check the mail with an independent parser. Can refuse recipients for good (550) or
for a while (451), to test failures and retries. For the exactly-once tests it can
count how many connections and DATA transactions were open at once (--stats, with
--data-delay-ms to widen the window), and withhold its answer to the Nth message
after saving it (--hold N), so a client killed then has a message the server
accepted but the client never heard of.

    python3 smtp_server.py --port 2525 --dir /tmp/mail \
        [--refuse bob@example.org] [--tempfail carol@example.org=2] [--no-save] \
        [--stats FILE] [--data-delay-ms MS] [--hold N --hold-marker FILE]

Prints "READY" once it accepts connections; stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import sys
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Stats:
    """Connections and DATA transactions open now, and the most ever open at once."""

    def __init__(self, path):
        self.path = path
        self.open = {"connections": 0, "data": 0}
        self.most = {"connections": 0, "data": 0}
        self.total = {"connections": 0, "data": 0}

    def enter(self, kind):
        self.open[kind] += 1
        self.total[kind] += 1
        self.most[kind] = max(self.most[kind], self.open[kind])
        self.write()

    def leave(self, kind):
        self.open[kind] -= 1
        self.write()

    def write(self):
        if self.path is None:
            return
        temporary = self.path + ".tmp"
        with open(temporary, "w") as file:
            json.dump({"most": self.most, "total": self.total, "open": self.open}, file)
        os.replace(temporary, self.path)


class CountingSMTP(SMTP):
    def __init__(self, handler, stats, **kwargs):
        super().__init__(handler, **kwargs)
        self.stats = stats

    def connection_made(self, transport):
        self.stats.enter("connections")
        super().connection_made(transport)

    def connection_lost(self, error):
        self.stats.leave("connections")
        super().connection_lost(error)


class CountingController(Controller):
    def __init__(self, handler, stats, **kwargs):
        super().__init__(handler, **kwargs)
        self.stats = stats

    def factory(self):
        return CountingSMTP(self.handler, self.stats, **self.SMTP_kwargs)


class Handler:
    def __init__(self, directory, refuse, tempfail, save, stats, data_delay, hold, hold_marker):
        self.directory = directory
        self.refuse = {address.lower() for address in refuse}
        self.tempfail = dict(tempfail)
        self.save = save
        self.stats = stats
        self.data_delay = data_delay
        self.hold = hold
        self.hold_marker = hold_marker
        self.accepted = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        lowered = address.lower()
        if lowered in self.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        remaining = self.tempfail.get(lowered)
        if remaining is not None and remaining != 0:
            self.tempfail[lowered] = remaining - 1 if remaining > 0 else remaining
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.stats.enter("data")
        try:
            if self.data_delay:
                await asyncio.sleep(self.data_delay)
            self.accepted += 1
            if self.save:
                self.save_message(envelope)
            if self.accepted == self.hold:
                open(self.hold_marker, "w").close()
                await asyncio.sleep(3600)
        finally:
            self.stats.leave("data")
        return "250 OK"

    def save_message(self, envelope):
        raw = envelope.original_content or envelope.content
        name = "%d-%s" % (self.accepted, uuid.uuid4().hex[:8])
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in message.walk():
            if part.is_multipart():
                continue
            parts.append({"content_type": part.get_content_type(), "body": part.get_content()})
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[key, str(value)] for key, value in message.items()],
            "raw_headers": [[key, value] for key, value in message.raw_items()],
            "content_type": message.get_content_type(),
            "parts": parts,
        }
        # Written under a temporary name and renamed, so a reader never sees half a file.
        for extension, data in ((".eml", raw), (".json", json.dumps(summary).encode())):
            temporary = os.path.join(self.directory, "." + name + extension)
            with open(temporary, "wb") as file:
                file.write(data)
            os.replace(temporary, os.path.join(self.directory, name + extension))


def tempfail_rule(text):
    address, _, count = text.partition("=")
    return address.lower(), int(count or "-1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--tempfail", action="append", default=[], type=tempfail_rule,
                        help="ADDRESS=N answers 451 N times (N=-1: always)")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--stats", help="keep FILE updated with the connection and DATA counts")
    parser.add_argument("--data-delay-ms", type=float, default=0)
    parser.add_argument("--hold", type=int, default=0,
                        help="save the Nth message, then never answer it")
    parser.add_argument("--hold-marker", help="created when the held message arrives")
    arguments = parser.parse_args()
    os.makedirs(arguments.dir, exist_ok=True)
    stats = Stats(arguments.stats)
    handler = Handler(arguments.dir, arguments.refuse, arguments.tempfail, not arguments.no_save,
                      stats, arguments.data_delay_ms / 1000, arguments.hold,
                      arguments.hold_marker)
    controller = CountingController(handler, stats, hostname=arguments.host,
                                    port=arguments.port, data_size_limit=10 * 1024 * 1024)
    controller.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print("READY", flush=True)
    stop.wait()
    controller.stop()
    print("accepted %d" % handler.accepted, file=sys.stderr)


if __name__ == "__main__":
    main()
