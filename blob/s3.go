package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where S3-compatible object storage is.
type S3Config struct {
	Endpoint  string // host[:port], e.g. "s3.amazonaws.com" or "minio.internal:9000"
	Bucket    string
	Prefix    string // optional folder inside the bucket
	Region    string // optional
	AccessKey string // empty: taken from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
	SecretKey string
	Insecure  bool // plain HTTP, for a store on a private network or in tests
}

// S3 keeps objects in an S3-compatible bucket, for serving behind a CDN.
// An object is written in one PUT, so readers never see part of one.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string
}

// NewS3 connects and checks that the bucket exists.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	creds := credentials.NewEnvAWS()
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: creds, Secure: !cfg.Insecure, Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 %s: %w", cfg.Endpoint, err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob: s3 bucket %s does not exist", cfg.Bucket)
	}
	return &S3{c: c, bucket: cfg.Bucket, prefix: strings.Trim(cfg.Prefix, "/")}, nil
}

func (s *S3) key(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return path.Join(s.prefix, name), nil
}

// CacheControl is the caching the CDN should apply to an export object:
// the index changes, batch files never do.
func CacheControl(name string) string {
	switch {
	case name == "index.txt":
		return "public, max-age=300"
	case strings.HasSuffix(name, ".zip"):
		return "public, max-age=86400, immutable"
	default:
		return "public, max-age=3600"
	}
}

// ContentType is the media type of an export object, by its extension.
func ContentType(name string) string {
	switch path.Ext(name) {
	case ".zip":
		return "application/zip"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".pem":
		return "application/x-pem-file"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// Put writes an object with its cache headers.
func (s *S3) Put(ctx context.Context, name string, data []byte) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	_, err = s.c.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: ContentType(name), CacheControl: CacheControl(name)})
	if err != nil {
		return fmt.Errorf("blob: s3 put %s: %w", key, err)
	}
	return nil
}

// Get reads an object.
func (s *S3) Get(ctx context.Context, name string) ([]byte, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, ErrNotFound
	}
	obj, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 get %s: %w", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		var er minio.ErrorResponse
		if errors.As(err, &er) && er.Code == "NoSuchKey" {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("blob: s3 get %s: %w", key, err)
	}
	return b, nil
}

// Delete removes an object; a missing one is not an error.
func (s *S3) Delete(ctx context.Context, name string) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("blob: s3 delete %s: %w", key, err)
	}
	return nil
}
