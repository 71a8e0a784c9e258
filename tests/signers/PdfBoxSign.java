// Signs a PDF with Apache PDFBox and BouncyCastle, as Java e-office tools do: the interop
// suite's PDFBox signer (tests/suite/interop/signers.rs). Run from source (java 11 and later):
//
//     java -cp pdfbox2.jar:...:bcpkix.jar PdfBoxSign.java IN OUT KEYSTORE.p12 [CRL.der...]
//
// With CRLs, a second incremental update adds a DSS as Java tools write one: its /Certs and
// /CRLs arrays, and a VRI entry for the signature, as indirect objects.
//
// The keystore's passphrase comes from the environment (NASKAH_SIGNER_PASSPHRASE), never
// from the command line. The CMS is BouncyCastle's: a detached SignedData with SHA-256 and the
// signer's chain, in BER as BouncyCastle writes it; PDFBox places it in an incremental update
// of its own (adbe.pkcs7.detached, an invisible field).
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.List;

import org.apache.pdfbox.cos.COSArray;
import org.apache.pdfbox.cos.COSBase;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.cos.COSObject;
import org.apache.pdfbox.cos.COSStream;
import org.apache.pdfbox.cos.COSUpdateInfo;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

public class PdfBoxSign {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: PdfBoxSign IN OUT KEYSTORE.p12 [CRL.der...]");
            System.exit(2);
        }
        String passphrase = System.getenv("NASKAH_SIGNER_PASSPHRASE");
        if (passphrase == null) {
            System.err.println("NASKAH_SIGNER_PASSPHRASE is not set");
            System.exit(2);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(args[2])) {
            store.load(in, passphrase.toCharArray());
        }
        String alias = store.aliases().nextElement();
        PrivateKey key = (PrivateKey) store.getKey(alias, passphrase.toCharArray());
        Certificate[] chain = store.getCertificateChain(alias);
        X509Certificate signer = (X509Certificate) chain[0];
        String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";

        try (PDDocument document = PDDocument.load(new File(args[0]));
             FileOutputStream out = new FileOutputStream(args[1])) {
            PDSignature signature = new PDSignature();
            signature.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
            signature.setSubFilter(PDSignature.SUBFILTER_ADBE_PKCS7_DETACHED);
            signature.setName("PDFBox");
            signature.setReason("Menyetujui");
            signature.setSignDate(Calendar.getInstance());
            document.addSignature(signature, content -> {
                try {
                    CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
                    ContentSigner contentSigner = new JcaContentSignerBuilder(algorithm).build(key);
                    generator.addSignerInfoGenerator(
                        new JcaSignerInfoGeneratorBuilder(
                            new JcaDigestCalculatorProviderBuilder().build())
                            .build(contentSigner, signer));
                    List<Certificate> certificates = new ArrayList<>(Arrays.asList(chain));
                    generator.addCertificates(new JcaCertStore(certificates));
                    CMSSignedData signed =
                        generator.generate(new CMSProcessableByteArray(content.readAllBytes()), false);
                    return signed.getEncoded();
                } catch (Exception e) {
                    throw new java.io.IOException(e);
                }
            });
            document.saveIncremental(out);
        }
        if (args.length > 3) {
            List<byte[]> crls = new ArrayList<>();
            for (int i = 3; i < args.length; i++) {
                crls.add(Files.readAllBytes(Paths.get(args[i])));
            }
            addDss(args[1], chain, crls);
        }
    }

    /** Appends a DSS with indirect arrays (and a VRI entry for the signature) to `path`. */
    static void addDss(String path, Certificate[] chain, List<byte[]> crls) throws Exception {
        byte[] signed = Files.readAllBytes(Paths.get(path));
        try (PDDocument document = PDDocument.load(signed);
             FileOutputStream out = new FileOutputStream(path)) {
            COSArray certs = new COSArray();
            for (Certificate certificate : chain) {
                certs.add(stream(document, certificate.getEncoded()));
            }
            COSArray crlStreams = new COSArray();
            for (byte[] crl : crls) {
                crlStreams.add(stream(document, crl));
            }
            byte[] contents = document.getLastSignatureDictionary().getContents(signed);
            String key = new java.math.BigInteger(1,
                MessageDigest.getInstance("SHA-1").digest(contents)).toString(16).toUpperCase();
            while (key.length() < 40) {
                key = "0" + key;
            }
            COSDictionary entry = new COSDictionary();
            entry.setItem(COSName.getPDFName("Cert"), indirect(certs));
            entry.setItem(COSName.getPDFName("CRL"), indirect(crlStreams));
            entry.setNeedToBeUpdated(true);
            COSDictionary vri = new COSDictionary();
            vri.setItem(COSName.getPDFName(key), indirect(entry));
            vri.setNeedToBeUpdated(true);
            COSDictionary dss = new COSDictionary();
            dss.setItem(COSName.getPDFName("Certs"), indirect(certs));
            dss.setItem(COSName.getPDFName("CRLs"), indirect(crlStreams));
            dss.setItem(COSName.getPDFName("VRI"), indirect(vri));
            dss.setNeedToBeUpdated(true);
            COSDictionary catalog = document.getDocumentCatalog().getCOSObject();
            catalog.setItem(COSName.getPDFName("DSS"), indirect(dss));
            catalog.setNeedToBeUpdated(true);
            document.saveIncremental(out);
        }
    }

    static COSStream stream(PDDocument document, byte[] bytes) throws Exception {
        COSStream stream = document.getDocument().createCOSStream();
        try (java.io.OutputStream out = stream.createOutputStream(COSName.FLATE_DECODE)) {
            out.write(bytes);
        }
        stream.setNeedToBeUpdated(true);
        return stream;
    }

    static COSObject indirect(COSBase object) throws java.io.IOException {
        if (object instanceof COSUpdateInfo) {
            ((COSUpdateInfo) object).setNeedToBeUpdated(true);
        }
        COSObject reference = new COSObject(object);
        reference.setNeedToBeUpdated(true);
        return reference;
    }
}
