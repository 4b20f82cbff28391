// A Node.js function behind the same IPs: fetch() leaves through the environment's Elastic IP.
exports.handler = async () => {
  const response = await fetch("https://checkip.amazonaws.com");
  return { ip: (await response.text()).trim() };
};
