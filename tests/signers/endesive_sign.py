"""Signs a PDF with endesive, the PyPI signer many small agency tools are built on: the
interop suite's endesive signer (tests/suite/interop/signers.rs).

    endesive_sign.py IN OUT --key KEY.pem --cert CERT.pem --chain CHAIN.pem

endesive writes its own incremental update (signature field, widget, appearance) and a
detached CMS with SHA-256.
"""

import argparse
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from endesive.pdf import cms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--chain", required=True)
    args = parser.parse_args()

    with open(args.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    with open(args.cert, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(args.chain, "rb") as f:
        chain = x509.load_pem_x509_certificates(f.read())
    now = datetime.datetime.now(datetime.timezone.utc)
    details = {
        "aligned": 0,
        "sigflags": 3,
        "sigflagsft": 132,
        "sigpage": 0,
        "sigfield": "Endesive",
        "auto_sigfield": True,
        "signaturebox": (320, 90, 540, 200),
        "signature": "Ditandatangani secara elektronik",
        "contact": "sekretariat@example.go.id",
        "location": "Banggai",
        "signingdate": now.strftime("D:%Y%m%d%H%M%S+00'00'"),
        "reason": "Menyetujui",
    }
    with open(args.input, "rb") as f:
        data = f.read()
    signature = cms.sign(data, details, key, cert, chain, "sha256")
    with open(args.output, "wb") as out:
        out.write(data)
        out.write(signature)


if __name__ == "__main__":
    main()
