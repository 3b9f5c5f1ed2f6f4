//! ES384 (P-384 + SHA-384) and ES512 (P-521 + SHA-512) on jwt-compact's `Algorithm` trait, which
//! ships only ES256/ES256K. Signatures are the fixed-length r‖s of RFC 7518 §3.4; parsing through
//! `Signature::from_slice` rejects r or s equal to 0 or ≥ n.

use jwt_compact::{Algorithm, AlgorithmSignature};
use std::borrow::Cow;
use std::num::NonZeroUsize;

macro_rules! ecdsa_alg {
    ($alg:ident, $sig:ident, $curve:ident, $name:literal, $len:literal) => {
        /// ECDSA signature in JWS form (r‖s).
        #[derive(Debug, Clone)]
        pub struct $sig(pub $curve::ecdsa::Signature);

        impl AlgorithmSignature for $sig {
            const LENGTH: Option<NonZeroUsize> = NonZeroUsize::new($len);

            fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
                if slice.len() != $len {
                    anyhow::bail!("{} signature must be {} bytes", $name, $len);
                }
                $curve::ecdsa::Signature::from_slice(slice)
                    .map($sig)
                    .map_err(|e| anyhow::anyhow!(e))
            }

            fn as_bytes(&self) -> Cow<'_, [u8]> {
                Cow::Owned(self.0.to_bytes().to_vec())
            }
        }

        #[doc = concat!("The `", $name, "` algorithm.")]
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $alg;

        impl Algorithm for $alg {
            type SigningKey = $curve::ecdsa::SigningKey;
            type VerifyingKey = $curve::ecdsa::VerifyingKey;
            type Signature = $sig;

            fn name(&self) -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn sign(&self, key: &Self::SigningKey, message: &[u8]) -> $sig {
                use $curve::ecdsa::signature::Signer;
                $sig(key.sign(message))
            }

            fn verify_signature(
                &self,
                sig: &$sig,
                key: &Self::VerifyingKey,
                message: &[u8],
            ) -> bool {
                use $curve::ecdsa::signature::Verifier;
                key.verify(message, &sig.0).is_ok()
            }
        }
    };
}

ecdsa_alg!(Es384, Es384Signature, p384, "ES384", 96);
ecdsa_alg!(Es512, Es512Signature, p521, "ES512", 132);
