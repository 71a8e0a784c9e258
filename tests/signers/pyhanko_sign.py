"""Signs a PDF with pyHanko's own signer, as another agency's tool would: the interop suite's
pyHanko signer (tests/suite/interop/signers.rs).

    pyhanko_sign.py IN OUT --key KEY.pem --cert CERT.pem --chain CHAIN.pem
        [--pss] [--md sha256] [--tsa URL] [--lta --root ROOT.pem --crl FILE...]
        [--box x1,y1,x2,y2]

B-B without --tsa, B-T with it; --lta embeds validation data (the DSS, which pyHanko writes
with indirect arrays) and a document time-stamp: B-LTA.
"""

import argparse

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.keys import load_cert_from_pemder
from pyhanko_certvalidator import ValidationContext


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--chain", required=True)
    parser.add_argument("--pss", action="store_true")
    # Ed25519 signs its signed attributes' digest with SHA-512 (RFC 8419).
    parser.add_argument("--md", default="sha256")
    parser.add_argument("--tsa")
    parser.add_argument("--lta", action="store_true")
    parser.add_argument("--root")
    parser.add_argument("--crl", action="append", default=[])
    parser.add_argument("--box", default="320,90,540,200")
    args = parser.parse_args()

    signer = signers.SimpleSigner.load(
        args.key, args.cert, ca_chain_files=(args.chain,), prefer_pss=args.pss
    )
    validation_context = None
    if args.lta:
        crls = []
        for path in args.crl:
            with open(path, "rb") as f:
                crls.append(f.read())
        validation_context = ValidationContext(
            trust_roots=[load_cert_from_pemder(args.root)],
            crls=crls,
            allow_fetching=False,
        )
    meta = signers.PdfSignatureMetadata(
        field_name="PihakLain",
        reason="Menyetujui",
        md_algorithm=args.md,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=args.lta,
        use_pades_lta=args.lta,
        validation_context=validation_context,
    )
    timestamper = timestamps.HTTPTimeStamper(args.tsa) if args.tsa else None
    box = tuple(int(n) for n in args.box.split(","))
    with open(args.input, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        pdf_signer = signers.PdfSigner(
            meta,
            signer=signer,
            timestamper=timestamper,
            new_field_spec=fields.SigFieldSpec("PihakLain", on_page=0, box=box),
        )
        with open(args.output, "wb") as out:
            pdf_signer.sign_pdf(writer, output=out)


if __name__ == "__main__":
    main()
