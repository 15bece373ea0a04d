package directory

import "encoding/pem"

// pemCertificate returns the DER of the first CERTIFICATE block in b.
func pemCertificate(b []byte) ([]byte, bool) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, false
		}
		if block.Type == "CERTIFICATE" {
			return block.Bytes, true
		}
	}
}
