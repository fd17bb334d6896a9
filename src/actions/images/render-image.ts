import type { ImageView } from "../../core/images/images.js";
import type { ImageSpec } from "../../domain/catalog.js";
import { unixSeconds } from "../../domain/clock.js";

/**
 * One image as the SDKs' `CompShareImage` model (ImageSet of every image list): every field, with
 * exactly its JSON type, since the Go SDK fails a whole call on one mismatch.
 */
export interface CompShareImage {
  CompShareImageId: string;
  Name: string;
  Author: string;
  AuthInfo: number;
  ImageOwnerAlias: string;
  ImageType: string;
  IsOfficial: boolean;
  Container: "True" | "False";
  Status: string;
  Size: number;
  Visibility: number;
  Description: string;
  Tags: string[];
  Cover: string;
  Readme: string;
  FailedReason: string;
  CreateTime: number;
  PubTime: number;
  ImageUseTime: number;
  CreatedCount: number;
  FavoritesCount: number;
  ImageCharge: boolean;
  Price: number;
  AutoStart: boolean;
  GroupId: string;
  VersionName: string;
  VersionDesc: string;
  SourceGpuType: string;
  Owner: { AccountId: string; AccountName: string };
  Softwares: { Applications: string[]; CUDAVersion: string; Framework: string; FrameworkVersion: string };
}

/** The community-market fields (cover, price, versions, counters): not offered here, so empty. */
const NOT_PUBLISHED = {
  Cover: "",
  Readme: "",
  PubTime: 0,
  ImageUseTime: 0,
  CreatedCount: 0,
  FavoritesCount: 0,
  ImageCharge: false,
  Price: 0,
  AutoStart: false,
  GroupId: "",
  VersionName: "",
  VersionDesc: "",
} as const;

/** A platform image of the catalog. */
export function renderPlatformImage(im: ImageSpec): CompShareImage {
  return {
    CompShareImageId: im.id,
    Name: im.name,
    Author: im.author,
    AuthInfo: 0,
    ImageOwnerAlias: "Official",
    ImageType: im.type,
    IsOfficial: true,
    Container: im.container ? "True" : "False",
    Status: "Available",
    Size: im.sizeMB,
    Visibility: 1,
    Description: im.description,
    Tags: [...im.tags],
    FailedReason: "",
    CreateTime: 0,
    ...NOT_PUBLISHED,
    SourceGpuType: "",
    Owner: { AccountId: "", AccountName: "opencompshare" },
    Softwares: { Applications: [], CUDAVersion: "", Framework: "", FrameworkVersion: "" },
  };
}

/**
 * A custom image: type Custom, private (Visibility 0), its maker as Author and Owner (the account
 * number as a string: the Go SDK's `Projects.AccountId` is one), `IsOfficial` true because every
 * custom image here stems from a platform image (the model: "whether its source is official").
 */
export function renderCustomImage(v: ImageView): CompShareImage {
  const im = v.image;
  return {
    CompShareImageId: im.id,
    Name: im.name,
    Author: v.owner.name,
    AuthInfo: 0,
    ImageOwnerAlias: "Custom",
    ImageType: "Custom",
    IsOfficial: true,
    Container: im.container ? "True" : "False",
    Status: im.status,
    Size: im.sizeMB,
    Visibility: 0,
    Description: im.description,
    Tags: [...im.tags],
    FailedReason: im.failedReason,
    CreateTime: unixSeconds(im.createdAt),
    ...NOT_PUBLISHED,
    SourceGpuType: im.sourceGpuType,
    Owner: { AccountId: String(v.owner.number), AccountName: v.owner.name },
    Softwares: {
      Applications: [...im.softwares.applications],
      CUDAVersion: im.softwares.cudaVersion,
      Framework: im.softwares.framework,
      FrameworkVersion: im.softwares.frameworkVersion,
    },
  };
}
