"""A real SMTP server for the digest tests and bench, on aiosmtpd.

Saves every accepted message to DIR as NAME.eml, plus NAME.json with what Python's
own email parser reads from it (recipients, headers, MIME parts), so the Rust tests
check the mail with an independent parser. Can refuse recipients for good (550) or
for a while (451), to test failures and retries.

    python3 smtp_server.py --port 2525 --dir /tmp/mail \
        [--refuse bob@example.org] [--tempfail carol@example.org=2] [--no-save]

Prints "READY" once it accepts connections; stops on SIGTERM or SIGINT.
"""

import argparse
import email
import email.policy
import json
import os
import signal
import sys
import threading
import uuid

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory, refuse, tempfail, save):
        self.directory = directory
        self.refuse = {address.lower() for address in refuse}
        self.tempfail = dict(tempfail)
        self.save = save
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
        self.accepted += 1
        if not self.save:
            return "250 OK"
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
        return "250 OK"


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
    arguments = parser.parse_args()
    os.makedirs(arguments.dir, exist_ok=True)
    handler = Handler(arguments.dir, arguments.refuse, arguments.tempfail, not arguments.no_save)
    controller = Controller(handler, hostname=arguments.host, port=arguments.port,
                            data_size_limit=10 * 1024 * 1024)
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
