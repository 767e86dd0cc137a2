"""Remembered devices with pycognito's own SRP code: a user signs in with USER_SRP_AUTH
(pycognito's `AWSSRP`), the pool offers the device a key, the device registers the verifier that
pycognito's `generate_hash_device` computes, and the next sign-in proves the device with
DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER (pycognito answers both without a Session); a
forgotten device is offered a new key.

pycognito's `AWSSRP.confirm_device` and `update_device_status` post to AWS's address whatever the
endpoint, so the journey sends ConfirmDevice and UpdateDeviceStatus through boto3 with the
verifier pycognito made.
"""

import base64
import json

from pycognito.aws_srp import AWSSRP, generate_hash_device

from journey import PASSWORD, check, expect_client_error, expect_equal, run, unique


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def main(j):
    t = j.target
    admin = t.admin_client()
    public = t.public_client()

    with j.step("CreateUserPool with DeviceConfiguration (remembered on user prompt)"):
        pool = admin.create_user_pool(
            PoolName=unique("py-devices"),
            DeviceConfiguration={
                "ChallengeRequiredOnNewDevice": True,
                "DeviceOnlyRememberedOnUserPrompt": True,
            },
        )["UserPool"]
        pool_id = pool["Id"]
        expect_equal(
            pool["DeviceConfiguration"],
            {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True},
            "DeviceConfiguration",
        )
        client_id = admin.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="py-devices",
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]

    username = unique("py-dev-user")
    with j.step("AdminCreateUser + AdminSetUserPassword (permanent)"):
        admin.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
        admin.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True
        )

    def srp(**device):
        return AWSSRP(
            username=username,
            password=PASSWORD,
            pool_id=pool_id,
            client_id=client_id,
            client=public,
            **device,
        )

    with j.step("AWSSRP.authenticate_user: tokens and NewDeviceMetadata"):
        tokens = srp().authenticate_user()
        result = tokens["AuthenticationResult"]
        metadata = result["NewDeviceMetadata"]
        device_key, group_key = metadata["DeviceKey"], metadata["DeviceGroupKey"]
        check(device_key.startswith(pool_id.split("_")[0] + "_"), f"DeviceKey {device_key!r}")
        expect_equal(claims_of(result["AccessToken"])["device_key"], device_key, "device_key claim")

    with j.step("ConfirmDevice with pycognito's generate_hash_device verifier"):
        device_password, verifier_config = generate_hash_device(group_key, device_key)
        confirmed = public.confirm_device(
            AccessToken=result["AccessToken"],
            DeviceKey=device_key,
            DeviceSecretVerifierConfig=verifier_config,
            DeviceName="py-laptop",
        )
        expect_equal(confirmed["UserConfirmationNecessary"], True, "UserConfirmationNecessary")

    with j.step("UpdateDeviceStatus remembered; GetDevice and AdminListDevices show it"):
        public.update_device_status(
            AccessToken=result["AccessToken"],
            DeviceKey=device_key,
            DeviceRememberedStatus="remembered",
        )
        device = public.get_device(AccessToken=result["AccessToken"], DeviceKey=device_key)[
            "Device"
        ]
        attributes = {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}
        expect_equal(attributes["device_name"], "py-laptop", "device_name")
        expect_equal(
            attributes["dev:device_remembered_status"], "remembered", "remembered status"
        )
        listed = admin.admin_list_devices(UserPoolId=pool_id, Username=username)["Devices"]
        expect_equal([d["DeviceKey"] for d in listed], [device_key], "AdminListDevices")

    device = {"device_key": device_key, "device_group_key": group_key, "device_password": device_password}
    with j.step("AWSSRP with the device: DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER"):
        tokens = srp(**device).authenticate_user()
        result = tokens["AuthenticationResult"]
        check("NewDeviceMetadata" not in result, f"a known device was offered a new key: {result!r}")
        expect_equal(claims_of(result["AccessToken"])["device_key"], device_key, "device_key claim")

    with j.step("a wrong device secret is refused"):
        wrong = dict(device, device_password="not-the-device-secret")
        expect_client_error("NotAuthorizedException", srp(**wrong).authenticate_user)

    with j.step("REFRESH_TOKEN_AUTH with DEVICE_KEY keeps the device"):
        refreshed = public.initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": result["RefreshToken"], "DEVICE_KEY": device_key},
        )["AuthenticationResult"]
        expect_equal(claims_of(refreshed["AccessToken"])["device_key"], device_key, "device_key claim")

    with j.step("AdminForgetDevice; the next sign-in is offered a new device key"):
        admin.admin_forget_device(UserPoolId=pool_id, Username=username, DeviceKey=device_key)
        expect_client_error(
            "ResourceNotFoundException",
            public.get_device,
            AccessToken=result["AccessToken"],
            DeviceKey=device_key,
        )
        tokens = srp(**device).authenticate_user()
        offered = tokens["AuthenticationResult"]["NewDeviceMetadata"]["DeviceKey"]
        check(offered != device_key, "a forgotten device got its old key back")


if __name__ == "__main__":
    run("pycognito devices", main)
