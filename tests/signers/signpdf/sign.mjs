// Signs a PDF with @signpdf, the Node.js signer: the interop suite's @signpdf signer
// (tests/suite/interop/signers.rs).
//
//     node sign.mjs IN OUT KEYSTORE.p12
//
// The keystore's passphrase comes from the environment (NASKAH_SIGNER_PASSPHRASE), never from
// the command line. @signpdf/placeholder-plain appends the signature field in an incremental
// update of its own; @signpdf/signer-p12 writes the CMS with node-forge (adbe.pkcs7.detached).
import { readFileSync, writeFileSync } from 'node:fs';

import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { P12Signer } from '@signpdf/signer-p12';
import { SignPdf } from '@signpdf/signpdf';

const [input, output, keystore] = process.argv.slice(2);
const passphrase = process.env.NASKAH_SIGNER_PASSPHRASE;
if (!input || !output || !keystore || passphrase === undefined) {
  console.error('usage: NASKAH_SIGNER_PASSPHRASE=... node sign.mjs IN OUT KEYSTORE.p12');
  process.exit(2);
}
const prepared = plainAddPlaceholder({
  pdfBuffer: readFileSync(input),
  reason: 'Menyetujui',
  contactInfo: 'sekretariat@example.go.id',
  name: 'signpdf',
  location: 'Banggai',
  signatureLength: 16384,
});
const signer = new P12Signer(readFileSync(keystore), { passphrase });
writeFileSync(output, await new SignPdf().sign(prepared, signer));
