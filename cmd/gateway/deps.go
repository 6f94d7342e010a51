package main

import (
	_ "github.com/alicebob/miniredis/v2"
	_ "github.com/gin-gonic/gin"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/scim2/filter-parser/v2"
	_ "gopkg.in/yaml.v3"
	_ "github.com/google/uuid"
	_ "github.com/go-oauth2/oauth2/v4"
	_ "github.com/lestrrat-go/jwx/v2/jwt"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/go-redis/redis_rate/v10"
	_ "golang.org/x/oauth2/clientcredentials"
	_ "golang.org/x/crypto/bcrypt"
	_ "github.com/prometheus/client_golang/prometheus"
)

func main() {}
