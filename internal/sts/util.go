package sts

import (
	"io"
	"net/http"
)

func readAll(r *http.Request) (string, error) {
	b, err := io.ReadAll(r.Body)
	return string(b), err
}
