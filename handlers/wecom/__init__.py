"""WeCom (企业微信 / 政务微信) adapter: callback crypto, message parsing, the API client."""
