package sts

import "strconv"

// v1Number is a number in a v1 token response. Entra's v1 endpoint
// (/{tenant}/oauth2/token) quotes it ("3599"); AD FS, whose /adfs/oauth2/token
// MSAL and the Azure CLI use on the ADFS-style route, writes a JSON number,
// and az 2.45 adds expires_in to an int without converting it
// (azure/cli/core/auth/util.py build_sdk_access_token).
type v1Number struct {
	n      int64
	quoted bool
}

func (v v1Number) MarshalJSON() ([]byte, error) {
	s := strconv.FormatInt(v.n, 10)
	if v.quoted {
		s = `"` + s + `"`
	}
	return []byte(s), nil
}

// v1Numbers makes a constructor of v1 response numbers for the tenant segment
// a request came in on: plain numbers for "adfs", numeric strings otherwise.
func v1Numbers(segment string) func(int64) v1Number {
	quoted := segment != "adfs"
	return func(n int64) v1Number { return v1Number{n: n, quoted: quoted} }
}
