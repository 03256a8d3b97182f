"""The REST API's token endpoint with the second factor: a user who turned two-factor
sign-in on gets a token only with a current code (`otp_token`), as in the admin; otherwise
the password alone would be a way around it."""

from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken

from team import services


class TokenWithCodeSerializer(ObtainAuthToken.serializer_class):
    otp_token = serializers.CharField(required=False, allow_blank=True, write_only=True)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        user = attrs["user"]
        if services.otp_required(user) and services.otp_check(user, attrs.get("otp_token")) is None:
            raise serializers.ValidationError(
                {"otp_token": ["This account uses two-factor sign-in: give the current code."]}
            )
        return attrs


class ObtainAuthTokenWithCode(ObtainAuthToken):
    serializer_class = TokenWithCodeSerializer


obtain_auth_token = ObtainAuthTokenWithCode.as_view()
